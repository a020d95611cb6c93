import { spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { createAuditLog } from '../../src/audit/audit-log.js';
import { adminCommand } from '../../src/admin/command.js';
import { ADMIN_CONSOLE } from '../../src/services/consoles.js';
import { FormBrowser, formFields } from '../support/browser.js';
import { submitLogin } from '../support/oidc.js';
import { codeAt, secretOn, sendCode } from '../support/second-factor.js';
import { startTestServer, testPerson, testService, type TestServer } from '../support/server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ services: [testService({ id: 'servizio-test' })], env: { TRUST_PROXY: '1' } });
});
afterAll(() => server.close());

const ADMIN = ADMIN_CONSOLE.path;
const browser = () => new FormBrowser(server.url, { 'x-forwarded-for': `198.51.${randomInt(256)}.${randomInt(1, 255)}` });
const HEADER = 'codice_fiscale;cognome;nome;sesso;data_nascita;luogo_nascita;email_istituzionale;stato_casella;email_personale;codice_meccanografico;ruolo;responsabile_sicurezza';

async function account(options: { admin?: boolean } = {}) {
  const data = testPerson();
  const created = await server.deps.provisioning.provision(data);
  if (options.admin) expect(await server.deps.administrators.grant(created.username, { kind: 'system' })).toBe('granted');
  return { ...created, password: data.password };
}

/** An administrator at the console, two factors enrolled on the way. */
async function adminAtConsole() {
  const admin = await account({ admin: true });
  const b = browser();
  const login = await b.follow(await b.get(ADMIN));
  const factor = await submitLogin(b, login, admin.username, admin.password);
  expect(factor.body).toContain('Attiva la verifica in due passaggi');
  const home = await sendCode(b, factor, await codeAt(secretOn(factor.body)!));
  expect(home.url).toBe(`${server.url}${ADMIN}`);
  expect(home.response.status).toBe(200);
  return { admin, b, home };
}

function staffFile(school: string, people: Array<ReturnType<typeof testPerson>>, extra = ''): string {
  const rows = people.map((p) => [p.fiscalCode, p.familyName, p.givenName, p.sex, p.birthDate, p.birthPlace, `${p.givenName}.${p.familyName}.${randomInt(1e9)}@posta.istruzione.it`.toLowerCase(), 'ATTIVA', '', school, 'docente', 'no'].join(';'));
  return [HEADER, ...rows].join('\n') + '\n' + extra;
}

async function upload(b: FormBrowser, csv: string | Buffer | null, options: { dryRun?: boolean; csrf?: boolean } = {}) {
  const page = await b.follow(await b.get(`${ADMIN}/personale/importazione`));
  const form = formFields(page.body, /\/personale\/importazione$/);
  const body = new FormData();
  if (options.csrf !== false) body.set('_csrf', form.fields._csrf!);
  if (options.dryRun) body.set('prova', 'si');
  if (csv !== null) body.set('file', new Blob([typeof csv === 'string' ? csv : new Uint8Array(csv)], { type: 'text/csv' }), 'personale.csv');
  const response = await b.request(form.action, { method: 'POST', body });
  return { response, body: await response.text() };
}

const count = (html: string, name: string) => Number(new RegExp(`data-count="${name}">(\\d+)<`).exec(html)?.[1]);

describe('administration', () => {
  it('tells a person without the role so, without making them enrol a second factor', async () => {
    const plain = await account();
    const b = browser();
    const page = await submitLogin(b, await b.follow(await b.get(ADMIN)), plain.username, plain.password);
    expect(page.response.status).toBe(403);
    expect(page.body).toContain('non ha il ruolo di amministratore');
  });

  it('imports a staff file through the console: dry run, then applied, then all unchanged; bad files change nothing', async () => {
    const { admin, b } = await adminAtConsole();
    const school = `RMIC${randomInt(10000, 99999)}X`;
    const people = [testPerson(), testPerson()];
    const csv = staffFile(school, people);

    const dry = await upload(b, csv, { dryRun: true });
    expect(dry.response.status).toBe(200);
    expect(dry.body).toContain('Prova superata');
    expect(count(dry.body, 'created')).toBe(2);
    expect(await server.deps.accounts.findByFiscalCode(people[0]!.fiscalCode)).toBeUndefined();

    const applied = await upload(b, csv);
    expect(applied.body).toContain('Importazione completata.');
    expect(count(applied.body, 'created')).toBe(2);
    expect(await server.deps.accounts.findByFiscalCode(people[0]!.fiscalCode)).toBeDefined();
    const again = await upload(b, csv);
    expect(count(again.body, 'unchanged')).toBe(2);
    expect(count(again.body, 'created')).toBe(0);

    const another = testPerson();
    const badRow = await upload(b, staffFile(school, [another], `${another.fiscalCode.slice(0, 15)}X;Rossi;Mario;M;1980-01-01;Roma;;ATTIVA;;${school};docente;no\n`));
    expect(badRow.response.status).toBe(422);
    expect(badRow.body).toContain('Riga 3');
    expect(badRow.body).toContain('Nessuna modifica');
    expect(await server.deps.accounts.findByFiscalCode(another.fiscalCode)).toBeUndefined();

    const badHeader = await upload(b, 'cf;nome\nX;Y\n');
    expect(badHeader.response.status).toBe(422);
    expect(badHeader.body).toContain('File rifiutato');
    const latin1 = await upload(b, Buffer.from(`${HEADER}\nÀ;\n`, 'latin1'));
    expect(latin1.response.status).toBe(422);
    expect(latin1.body).toContain('non è in UTF-8');
    const none = await upload(b, null);
    expect(none.response.status).toBe(400);
    expect(none.body).toContain('Scegli il file CSV');
    expect((await upload(b, csv, { csrf: false })).response.status).toBe(403);

    // every run recorded, with what became of it
    const imports = await server.db.selectFrom('audit_log').select(['actor_kind', 'outcome', 'details']).where('action', '=', 'staff.import').where('actor_id', '=', admin.id).orderBy('id').execute();
    expect(imports.map((e) => [e.actor_kind, e.outcome, (e.details as { dryRun?: boolean; reason?: string }).reason ?? (e.details as { dryRun?: boolean }).dryRun ?? 'applied'])).toEqual([
      ['admin', 'success', true],
      ['admin', 'success', 'applied'],
      ['admin', 'success', 'applied'],
      ['admin', 'refused', 'lines'],
      ['admin', 'refused', 'file'],
      ['admin', 'refused', 'file'],
    ]);
  });

  it('shows the audit log filtered by subject, actor, action and day, newest first, a page at a time; nothing in it can be changed from here', async () => {
    const { admin, b } = await adminAtConsole();
    const subject = await account();
    const audit = createAuditLog(server.db);
    for (let n = 0; n < 57; n++) {
      await audit.record({ actorKind: 'admin', actorId: admin.id, subjectId: subject.id, action: n % 2 ? 'test.one' : 'test.one_more', outcome: 'success', details: { n } });
    }
    const first = await b.follow(await b.get(`${ADMIN}/registro?soggetto=${subject.username}&azione=test.`));
    const ids = (html: string) => [...html.matchAll(/data-entry="(\d+)"/g)].map((m) => Number(m[1]));
    const page1 = ids(first.body);
    expect(page1).toHaveLength(50);
    expect([...page1].sort((x, y) => y - x)).toEqual(page1);
    expect(first.body).toContain('{&#34;n&#34;:56}');
    const next = /href="(\/admin\/registro\?[^"]+dopo=\d+)"/.exec(first.body)![1]!.replace(/&amp;/g, '&');
    const second = await b.follow(await b.get(next));
    const page2 = ids(second.body);
    expect(page2).toHaveLength(7);
    expect(Math.max(...page2)).toBeLessThan(Math.min(...page1));
    expect(second.body).not.toContain('Voci precedenti');

    const byActor = await b.follow(await b.get(`${ADMIN}/registro?attore=${admin.username}&azione=test.one`));
    expect(ids(byActor.body)).toHaveLength(50);
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Rome' }).format(new Date());
    const inDay = await b.follow(await b.get(`${ADMIN}/registro?soggetto=${subject.username}&dal=${today}&al=${today}`));
    expect(ids(inDay.body).length).toBe(50);
    const dayBefore = await b.follow(await b.get(`${ADMIN}/registro?soggetto=${subject.username}&al=2020-01-01`));
    expect(dayBefore.body).toContain('Nessuna voce corrisponde ai filtri.');
    const nobody = await b.follow(await b.get(`${ADMIN}/registro?soggetto=nessuno.maiesistito`));
    expect(nobody.body).toContain('Nessuna voce corrisponde ai filtri.');

    // read only: no way to write through the console
    for (const method of ['POST', 'PUT', 'DELETE']) {
      expect((await b.request(`${ADMIN}/registro`, { method })).status).toBe(405);
    }
    const viewed = await server.db.selectFrom('audit_log').select('id').where('actor_id', '=', admin.id).where('action', '=', 'admin.audit_viewed').execute();
    expect(viewed.length).toBe(6);
  });

  it('reads the role at every request: a revocation shuts the console at the next click', async () => {
    const { admin, b } = await adminAtConsole();
    expect((await b.follow(await b.get(`${ADMIN}/registro`))).response.status).toBe(200);
    expect(await server.deps.administrators.revoke(admin.username, { kind: 'system' })).toBe('revoked');
    const after = await b.follow(await b.get(`${ADMIN}/registro`));
    expect(after.response.status).toBe(403);
    expect(after.body).toContain('non ha il ruolo di amministratore');
  });

  it('never revokes the last administrator, even when the last two revoke each other at once', async () => {
    const first = await account({ admin: true });
    const second = await account({ admin: true });
    const others = (await server.deps.administrators.list()).filter((a) => a.accountId !== first.id && a.accountId !== second.id);
    for (const other of others) await server.deps.administrators.revoke(other.username, { kind: 'system' });

    const outcomes = await Promise.all([
      server.deps.administrators.revoke(first.username, { kind: 'admin', id: second.id }),
      server.deps.administrators.revoke(second.username, { kind: 'admin', id: first.id }),
    ]);
    expect(outcomes.sort()).toEqual(['last_one', 'revoked']);
    expect(await server.deps.administrators.list()).toHaveLength(1);
    const refusal = await server.db.selectFrom('audit_log').select('details').where('action', '=', 'admin.role_revoked').where('outcome', '=', 'refused').where('actor_id', 'in', [first.id, second.id]).execute();
    expect(refusal).toHaveLength(1);
  });

  it('grants, lists and revokes the role from the command line: npm run admin -- admins …', async () => {
    const [first, second] = [await account(), await account()];
    const admin = (...args: string[]) => adminCommand(['admins', ...args], server.deps.commands);

    const granted = await admin('grant', first.username);
    expect(granted).toMatchObject({ code: 0, stdout: `Ruolo di amministratore concesso a ${first.username}.` });
    expect((await admin('grant', first.username)).stdout).toContain('è già amministratore');
    expect(JSON.parse((await admin('grant', second.username, '--json')).stdout)).toEqual({ outcome: 'granted', username: second.username });
    expect((JSON.parse((await admin('list', '--json')).stdout) as Array<{ username: string }>).map((a) => a.username)).toEqual(expect.arrayContaining([first.username, second.username]));
    const unknown = await admin('grant', 'nessuno.maiesistito');
    expect(unknown).toMatchObject({ code: 1, stderr: 'Nessuna utenza con username nessuno.maiesistito.' });
    expect((await admin('revoke', first.username)).code).toBe(0);
    expect((await admin('list')).stdout).not.toContain(first.username);
    expect((await admin('bogus')).code).toBe(2);

    // the command itself, as npm runs it: help without a database, a refusal's exit code
    const dir = mkdtempSync(join(tmpdir(), 'iam-admin-cli-'));
    const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'src/admin/cli.ts', ...args], { env: { ...process.env, DATA_DIR: join(dir, 'data'), LOG_LEVEL: 'silent' }, encoding: 'utf8' });
    expect(cli('--help')).toMatchObject({ status: 0, stdout: expect.stringContaining('admins grant <username>') });
    expect(cli('admins').status).toBe(2);
    expect(cli('admins', 'grant', 'nessuno.maiesistito')).toMatchObject({ status: 1, stderr: expect.stringContaining('Nessuna utenza') });
  }, 60_000);
});

describe('administration: administrators and enablements from the console', () => {
  it('grants the role, asks before revoking it, never revokes the last one, refuses a form without its token', async () => {
    const { admin, b } = await adminAtConsole();
    const other = await account();
    const page = await b.follow(await b.get(`${ADMIN}/amministratori`));
    expect(page.body).toContain(`data-admin="${admin.username}"`);
    const form = formFields(page.body, /\/amministratori$/);
    expect((await b.post(form.action, { username: other.username })).status).toBe(403);
    expect((await b.follow(await b.post(form.action, { ...form.fields, username: 'nessuno.mai' }))).response.status).toBe(404);
    const granted = await b.follow(await b.post(form.action, { ...form.fields, username: other.username }));
    expect(granted.body).toContain(`Ruolo di amministratore concesso a ${other.username}.`);
    expect(await server.deps.administrators.isAdministrator(other.id)).toBe(true);

    const confirm = await b.follow(await b.get(`${ADMIN}/amministratori/revoca?username=${other.username}`));
    expect(confirm.body).toContain('non potrà più entrare');
    const revokeForm = formFields(confirm.body, /\/amministratori\/revoca$/);
    const revoked = await b.follow(await b.post(revokeForm.action, revokeForm.fields));
    expect(revoked.body).toContain(`Ruolo di amministratore revocato a ${other.username}.`);
    expect(await server.deps.administrators.isAdministrator(other.id)).toBe(false);
    const entries = await server.db.selectFrom('audit_log').select(['action', 'actor_kind', 'actor_id']).where('subject_id', '=', other.id).where('action', 'like', 'admin.role_%').orderBy('id').execute();
    expect(entries).toEqual([
      { action: 'admin.role_granted', actor_kind: 'admin', actor_id: admin.id },
      { action: 'admin.role_revoked', actor_kind: 'admin', actor_id: admin.id },
    ]);
  });

  it("lists a person's enablements by CF and revokes one after a confirmation", async () => {
    const { b } = await adminAtConsole();
    const person = await account();
    const number = `IST-2026-${randomInt(1e6, 9e6)}`;
    await server.db.insertInto('enablements').values({ number, account_id: person.id, service_id: 'servizio-test', state: 'enabled', document: JSON.stringify({ type: 'passaporto', number: 'YA1', issuer: 'X', expiry: '2031-01-01' }) }).execute();
    expect((await b.follow(await b.get(`${ADMIN}/abilitazioni?cf=NONVALIDO`))).response.status).toBe(400);
    const list = await b.follow(await b.get(`${ADMIN}/abilitazioni?cf=${person.fiscalCode}`));
    expect(list.body).toContain(`data-number="${number}"`);
    const confirm = await b.follow(await b.get(`${ADMIN}/abilitazioni/revoca?numero=${number}&cf=${person.fiscalCode}`));
    const form = formFields(confirm.body, /\/abilitazioni\/revoca$/);
    const done = await b.follow(await b.post(form.action, form.fields));
    expect(done.body).toContain(`Abilitazione ${number} revocata.`);
    expect((await server.db.selectFrom('enablements').select('state').where('number', '=', number).executeTakeFirstOrThrow()).state).toBe('revoked');
    expect((await b.follow(await b.post(form.action, { ...form.fields, numero: 'IST-1999-000001' }))).response.status).toBe(404);
  });
});
