import { mkdtempSync } from 'node:fs';
import { randomInt } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import argon2 from 'argon2';

import type { MailboxState } from '../../src/accounts/account.js';
import type { SchoolRole } from '../../src/db/schema.js';
import { OFFICER_CONSOLE } from '../../src/services/consoles.js';
import { FormBrowser, formFields } from '../support/browser.js';
import { redeem, refreshRequest, relyingParty, signIn, submitLogin, type RelyingParty } from '../support/oidc.js';
import { messagesTo } from '../support/outbox.js';
import { codeAt, secretOn, sendCode } from '../support/second-factor.js';
import { startTestServer, testMiUsername, testPerson, testService, type TestServer } from '../support/server.js';

let server: TestServer;
let outbox: string;
let sidi: RelyingParty;

beforeAll(async () => {
  outbox = join(mkdtempSync(join(tmpdir(), 'iam-officer-')), 'outbox');
  server = await startTestServer({
    services: [testService({ id: 'sidi-test', name: 'SIDI Test', acceptedAccountTypes: ['mi'] })],
    env: { DATA_DIR: join(outbox, '..'), TRUST_PROXY: '1' },
  });
  sidi = await relyingParty(server.url, server.services[0]!);
});
afterAll(() => server.close());

const CONSOLE = OFFICER_CONSOLE.path;
const browser = () => new FormBrowser(server.url, { 'x-forwarded-for': `198.51.${randomInt(256)}.${randomInt(1, 255)}` });
const schoolCode = () => `RMIC${randomInt(10000, 99999)}X`;
const unique = () => randomInt(1e9).toString(36);

async function person(options: { type: 'mi' | 'standard'; schools: Array<{ schoolCode: string; role: SchoolRole; securityOfficer?: boolean }>; mailbox?: MailboxState | null }) {
  const data = testPerson({
    type: options.type,
    ...(options.type === 'mi' ? { username: testMiUsername() } : {}),
    ...(options.mailbox === null ? {} : { institutionalEmail: { address: `p.${unique()}@${options.type === 'mi' ? 'istruzione.it' : 'posta.istruzione.it'}`, state: options.mailbox ?? 'ATTIVA' } }),
    schools: options.schools,
  });
  const account = await server.deps.provisioning.provision(data);
  return { ...account, password: data.password };
}

/** An officer signed in to the console with two factors (enrolled on the way). */
async function officerAtConsole(schools: string[]) {
  const officer = await person({ type: 'mi', schools: schools.map((s) => ({ schoolCode: s, role: 'dsga', securityOfficer: true })) });
  const b = browser();
  const login = await b.follow(await b.get(CONSOLE));
  expect(login.url).toContain('/interaction/');
  expect(login.body).toContain('SIDI – Gestione Utenze');
  const factor = await submitLogin(b, login, officer.username, officer.password);
  const secret = secretOn(factor.body)!;
  const home = await sendCode(b, factor, await codeAt(secret));
  expect(home.url).toBe(`${server.url}${CONSOLE}`);
  expect(home.response.status).toBe(200);
  return { officer, b, home, secret };
}

async function search(b: FormBrowser, school: string, fiscalCode: string) {
  const page = await b.follow(await b.get(`${CONSOLE}/scuole/${school}`));
  const form = formFields(page.body, /\/ricerca$/);
  return b.follow(await b.post(form.action, { ...form.fields, codice_fiscale: fiscalCode }));
}

async function resetFromCard(b: FormBrowser, cardUrl: string) {
  const confirm = await b.follow(await b.get(`${cardUrl}/reimposta-password`));
  const form = formFields(confirm.body, /\/reimposta-password$/);
  return b.follow(await b.post(form.action, form.fields));
}

const auditOf = (actorId: string, action: string) =>
  server.db.selectFrom('audit_log').select(['action', 'outcome', 'subject_id', 'details']).where('actor_id', '=', actorId).where('action', '=', action).orderBy('occurred_at').orderBy('seq').execute();

const passwordHashOf = async (id: string) =>
  (await server.db.selectFrom('accounts').select('password_hash').where('id', '=', id).executeTakeFirstOrThrow()).password_hash;

describe('SIDI Gestione Utenze', () => {
  it('officer with two factors → search by CF → card → reset → temporary password only in the officer\'s mail → employee changes it and reaches SIDI', async () => {
    const school = schoolCode();
    const { officer, b, home } = await officerAtConsole([school]);
    expect(home.body).toContain(school);
    const employee = await person({ type: 'mi', schools: [{ schoolCode: school, role: 'assistente_amministrativo' }] });

    // the employee is signed in somewhere with a refresh token, which the reset must end
    const before = await signIn(browser(), sidi, employee, { scope: 'openid offline_access', prompt: 'consent' });
    const held = await redeem(sidi, before.page.url, before.start);
    expect(held.refresh_token).toBeDefined();

    const card = await search(b, school, employee.fiscalCode.toLowerCase());
    expect(card.url).toBe(`${server.url}${CONSOLE}/scuole/${school}/dipendenti/${employee.id}`);
    for (const shown of [employee.username, employee.fiscalCode, employee.institutionalEmail!, 'ATTIVA', 'Utenza MI', 'Assistente amministrativo', 'nessun blocco', `${employee.givenName} ${employee.familyName}`]) {
      expect(card.body).toContain(shown);
    }

    const done = await resetFromCard(b, card.url);
    expect(done.response.status).toBe(200);
    expect(done.body).toContain('Password reimpostata');
    expect(done.body).toContain(officer.institutionalEmail!);
    await server.deps.outgoingMail.drain();
    const [toOfficer] = messagesTo(outbox, officer.institutionalEmail!);
    expect(toOfficer!.subject).toBe(`Password temporanea per ${employee.givenName} ${employee.familyName}`);
    const temporary = /Password temporanea: (\S+)/.exec(toOfficer!.text)![1]!;
    expect(done.body).not.toContain(temporary);
    const [notice] = messagesTo(outbox, employee.institutionalEmail!);
    expect(notice!.text).toContain(school);
    expect(notice!.text).not.toContain(temporary);

    // every session and refresh token of the employee ended
    expect((await refreshRequest(sidi, held.refresh_token!)).body.error).toBe('invalid_grant');

    // the employee signs in with it, must change it, then reaches the service
    const eb = browser();
    const { start, page } = await signIn(eb, sidi, { username: employee.username, password: temporary });
    expect(page.body).toContain('name="next"');
    const change = formFields(page.body, /\/gate$/);
    const landed = await eb.follow(await eb.post(change.action, { ...change.fields, next: 'Nuova-Password-Sicura-9', confirm: 'Nuova-Password-Sicura-9' }));
    expect(landed.url).toContain('code=');
    expect((await redeem(sidi, landed.url, start)).claims()!.sub).toBe(employee.id);

    const entries = await auditOf(officer.id, 'officer.password_reset');
    expect(entries.map((e) => [e.outcome, e.subject_id])).toEqual([['success', employee.id]]);
    expect(JSON.stringify(entries)).not.toContain(temporary);
    expect(await auditOf(officer.id, 'password.temporary_set')).toHaveLength(1);
  });

  it('answers "not found" alike for another school\'s employee and for nobody, by CF, by URL and by a replayed form; the audit log tells them apart', async () => {
    const mine = schoolCode();
    const theirs = schoolCode();
    const { officer, b } = await officerAtConsole([mine]);
    const outsider = await person({ type: 'mi', schools: [{ schoolCode: theirs, role: 'dsga' }] });
    const nobody = testPerson().fiscalCode;
    const hashBefore = await passwordHashOf(outsider.id);

    const byCf = await search(b, mine, outsider.fiscalCode);
    const byUnknownCf = await search(b, mine, nobody);
    expect(byCf.response.status).toBe(404);
    expect(byUnknownCf.response.status).toBe(404);
    const answer = (body: string) => /<div class="alert alert-danger"[\s\S]*?<\/div>/.exec(body)![0];
    expect(answer(byCf.body)).toBe(answer(byUnknownCf.body));
    expect(answer(byCf.body)).toContain(`Nessun dipendente trovato con questo codice fiscale tra il personale della scuola ${mine}`);

    // direct URLs: the outsider's card under my school, and under theirs
    const underMine = await b.follow(await b.get(`${CONSOLE}/scuole/${mine}/dipendenti/${outsider.id}`));
    const underTheirs = await b.follow(await b.get(`${CONSOLE}/scuole/${theirs}/dipendenti/${outsider.id}`));
    const notUuid = await b.follow(await b.get(`${CONSOLE}/scuole/${mine}/dipendenti/not-a-uuid`));
    expect([underMine.response.status, underTheirs.response.status, notUuid.response.status]).toEqual([404, 404, 404]);
    expect(underMine.body).not.toContain(outsider.fiscalCode);
    expect(underTheirs.body).not.toContain(outsider.fiscalCode);

    // a reset form of my school replayed against the outsider, with their school in the path and the body
    const colleague = await person({ type: 'mi', schools: [{ schoolCode: mine, role: 'dsga' }] });
    const confirm = await b.follow(await b.get(`${CONSOLE}/scuole/${mine}/dipendenti/${colleague.id}/reimposta-password`));
    const form = formFields(confirm.body, /\/reimposta-password$/);
    const replays = await Promise.all([
      b.post(`${CONSOLE}/scuole/${mine}/dipendenti/${outsider.id}/reimposta-password`, { ...form.fields, school: theirs }),
      b.post(`${CONSOLE}/scuole/${theirs}/dipendenti/${outsider.id}/reimposta-password`, { ...form.fields, school: theirs }),
    ]);
    expect(replays.map((r) => r.status)).toEqual([404, 404]);
    expect(await passwordHashOf(outsider.id)).toBe(hashBefore);
    await server.deps.outgoingMail.drain();
    expect(messagesTo(outbox, officer.institutionalEmail!)).toHaveLength(0);

    const reasons = async (action: string) => (await auditOf(officer.id, action)).map((e) => [e.outcome, e.subject_id, (e.details as { reason?: string }).reason]);
    expect(await reasons('officer.employee_searched')).toEqual([['refused', outsider.id, 'outside_school'], ['refused', null, 'no_account']]);
    expect(await reasons('officer.employee_viewed')).toEqual([['refused', outsider.id, 'outside_school'], ['success', colleague.id, undefined]]);
    expect(await reasons('officer.school_refused')).toEqual([['refused', null, 'no_profile_at_school'], ['refused', null, 'no_profile_at_school']]);
    expect(await reasons('officer.password_reset')).toEqual([['refused', outsider.id, 'outside_school']]);
  });

  it('stops at the next request once the profile for a school is withdrawn, not at the next sign-in', async () => {
    const first = schoolCode();
    const second = schoolCode();
    const { officer, b } = await officerAtConsole([first, second]);
    const employee = await person({ type: 'mi', schools: [{ schoolCode: first, role: 'dsga' }] });
    const card = await search(b, first, employee.fiscalCode);
    expect(card.response.status).toBe(200);
    const confirm = await b.follow(await b.get(`${card.url}/reimposta-password`));
    const form = formFields(confirm.body, /\/reimposta-password$/);

    await server.db.updateTable('school_assignments').set({ security_officer: false }).where('account_id', '=', officer.id).where('school_code', '=', first).execute();

    expect((await b.follow(await b.get(card.url))).response.status).toBe(404);
    expect((await b.follow(await b.post(form.action, form.fields))).response.status).toBe(404);
    const home = await b.follow(await b.get(CONSOLE));
    expect(home.body).toContain(second);
    expect(home.body).not.toContain(`/scuole/${first}`);
    expect((await auditOf(officer.id, 'officer.school_refused')).length).toBe(2);

    await server.db.updateTable('school_assignments').set({ security_officer: false }).where('account_id', '=', officer.id).execute();
    const none = await b.follow(await b.get(CONSOLE));
    expect(none.response.status).toBe(403);
    expect(none.body).toContain('non ha il profilo di Responsabile della sicurezza');
  });

  it('refuses a reset when the mailbox is not ATTIVA, the account is not MI or is the officer\'s own, saying why, and changes nothing', async () => {
    const school = schoolCode();
    const { officer, b } = await officerAtConsole([school]);
    const suspended = await person({ type: 'mi', schools: [{ schoolCode: school, role: 'dsga' }], mailbox: 'SOSPESA' });
    const teacher = await person({ type: 'standard', schools: [{ schoolCode: school, role: 'docente' }] });

    for (const [employee, message] of [
      [suspended, 'solo quando la casella istituzionale è ATTIVA'],
      [teacher, 'reimposta la password da solo con «Password dimenticata?»'],
    ] as const) {
      const card = await search(b, school, employee.fiscalCode);
      expect(card.body).toContain(message);
      expect(card.body).not.toContain('/reimposta-password"');
      const hash = await passwordHashOf(employee.id);
      const confirm = await b.follow(await b.get(`${card.url}/reimposta-password`));
      const form = formFields(confirm.body, /\/reimposta-password$/);
      const refused = await b.follow(await b.post(form.action, form.fields));
      expect(refused.response.status).toBe(409);
      expect(refused.body).toContain(message);
      expect(await passwordHashOf(employee.id)).toBe(hash);
    }
    // nor the officer's own password: a reset is another person's act
    const own = await search(b, school, officer.fiscalCode);
    expect(own.body).toContain('Non puoi reimpostare la tua password da qui');
    const ownForm = formFields((await b.follow(await b.get(`${own.url}/reimposta-password`))).body, /\/reimposta-password$/);
    expect((await b.post(ownForm.action, ownForm.fields)).status).toBe(409);
    expect((await auditOf(officer.id, 'officer.password_reset')).map((e) => (e.details as { reason: string }).reason)).toEqual(['mailbox_not_active', 'not_mi', 'own_account']);
  });

  it('shows the sign-in lock on the card, and the reset clears it', async () => {
    const school = schoolCode();
    const { officer, b } = await officerAtConsole([school]);
    const employee = await person({ type: 'mi', schools: [{ schoolCode: school, role: 'dsga' }] });
    const guesser = browser();
    for (let i = 0; i < 5; i++) await signIn(guesser, sidi, { username: employee.username, password: `Sbagliata-${i}!` });

    const card = await search(b, school, employee.fiscalCode);
    expect(card.body).toContain('bloccata per tentativi errati fino al');
    const done = await resetFromCard(b, card.url);
    expect(done.body).toContain('nessun blocco');
    await server.deps.outgoingMail.drain();
    const temporary = /Password temporanea: (\S+)/.exec(messagesTo(outbox, officer.institutionalEmail!)[0]!.text)![1]!;
    const { page } = await signIn(browser(), sidi, { username: employee.username, password: temporary });
    expect(page.body).toContain('name="next"');
  });

  it('says what is wrong with a malformed CF, and refuses a form without its CSRF token', async () => {
    const school = schoolCode();
    const { b } = await officerAtConsole([school]);
    const malformed = await search(b, school, 'RSSMRA80A01H501X');
    expect(malformed.response.status).toBe(400);
    expect(malformed.body).toContain('Il codice fiscale non è valido');
    const empty = await search(b, school, '  ');
    expect(empty.body).toContain('Inserisci il codice fiscale');
    const forged = await b.post(`${CONSOLE}/scuole/${school}/ricerca`, { codice_fiscale: testPerson().fiscalCode });
    expect(forged.status).toBe(403);
  });

  it('a burst of resets of one employee: each stores a whole password and mails it, and the one stored is one of them', async () => {
    const school = schoolCode();
    const { officer, b } = await officerAtConsole([school]);
    const employee = await person({ type: 'mi', schools: [{ schoolCode: school, role: 'dsga' }] });
    const confirm = await b.follow(await b.get(`${CONSOLE}/scuole/${school}/dipendenti/${employee.id}/reimposta-password`));
    const form = formFields(confirm.body, /\/reimposta-password$/);
    const answers = await Promise.all(Array.from({ length: 5 }, () => b.post(form.action, form.fields)));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    await server.deps.outgoingMail.drain();
    const passwords = messagesTo(outbox, officer.institutionalEmail!).map((m) => /Password temporanea: (\S+)/.exec(m.text)![1]!);
    expect(new Set(passwords).size).toBe(5);
    const hash = await passwordHashOf(employee.id);
    const matches = await Promise.all(passwords.map((p) => argon2.verify(hash, p)));
    expect(matches.filter(Boolean)).toHaveLength(1);
    const history = await server.db.selectFrom('password_history').select('id').where('account_id', '=', employee.id).execute();
    expect(history).toHaveLength(6);
  });

  it('signs in only MI accounts, and sends a person without the profile away with a clear page', async () => {
    // an MI account without the profile: signed in with the password alone, then told
    const clerk = await person({ type: 'mi', schools: [{ schoolCode: schoolCode(), role: 'assistente_amministrativo' }] });
    const b = browser();
    const login = await b.follow(await b.get(CONSOLE));
    const denied = await submitLogin(b, login, clerk.username, clerk.password);
    expect(denied.url).toBe(`${server.url}${CONSOLE}`);
    expect(denied.response.status).toBe(403);
    expect(denied.body).toContain('non ha il profilo di Responsabile della sicurezza');

    // a standard account: refused by the console's client, back at the console with the reason
    const teacher = await person({ type: 'standard', schools: [{ schoolCode: schoolCode(), role: 'docente' }] });
    const t = browser();
    const refused = await submitLogin(t, await t.follow(await t.get(CONSOLE)), teacher.username, teacher.password);
    const cancel = formFields(refused.body, /\/abort$/);
    const back = await t.follow(await t.post(cancel.action, cancel.fields));
    expect(back.url).toContain(`${CONSOLE}/accesso?error=access_denied`);
    expect(back.response.status).toBe(403);
    expect(back.body).toContain('riservata ai Responsabili della sicurezza');
  });
});
