import { mkdtempSync } from 'node:fs';
import { randomInt } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { FormBrowser, formFields } from '../support/browser.js';
import { messagesTo } from '../support/outbox.js';
import argon2 from 'argon2';
import { adminCommand } from '../../src/admin/command.js';
import { ACR } from '../../src/accounts/acr.js';
import { SESSION_COOKIE } from '../../src/provider/configuration.js';
import { authorizationUrl, redeem, relyingParty, signIn, type RelyingParty } from '../support/oidc.js';
import { readPdf } from '../support/pdf.js';
import { signedInOfficer } from '../support/officer.js';
import { startTestServer, testPerson, testService, type TestServer } from '../support/server.js';

let server: TestServer;
let istanze: RelyingParty;
let pago: RelyingParty;
let outbox: string;

beforeAll(async () => {
  outbox = join(mkdtempSync(join(tmpdir(), 'iam-enablement-')), 'outbox');
  server = await startTestServer({
    services: [testService({ id: 'istanze-test', name: 'Istanze di prova', enablementRequired: true }), testService({ id: 'pago-test' })],
    env: { DATA_DIR: join(outbox, '..'), TRUST_PROXY: '1' },
  });
  istanze = await relyingParty(server.url, server.services[0]!);
  pago = await relyingParty(server.url, server.services[1]!);
});
afterAll(() => server.close());

const browser = () => new FormBrowser(server.url, { 'x-forwarded-for': `198.51.${randomInt(256)}.${randomInt(1, 255)}` });
const nextYear = `15/06/${new Date().getFullYear() + 1}`;
const DOCUMENT = { type: 'carta_identita', number: 'CA 12345 AB', issuer: 'Comune di Roma', expiry: nextYear, contacts: 'si' };

async function atTheGate() {
  const data = testPerson();
  const account = await server.deps.provisioning.provision(data);
  const b = browser();
  const { page } = await signIn(b, istanze, { username: account.username, password: data.password });
  return { b, account, data, page };
}

async function sendGate(b: FormBrowser, page: { body: string }, fields: Record<string, string>, step?: string) {
  const forms = [...page.body.matchAll(/<form[^>]*action="([^"]+\/gate)"[^>]*>([\s\S]*?)<\/form>/g)];
  const form = forms.find((f) => !step || f[2]!.includes(`name="step" value="${step}"`));
  if (!form) throw new Error(`no gate form${step ? ` for ${step}` : ''} in the page`);
  const { fields: hidden } = formFields(form[0], /\/gate$/);
  return b.follow(await b.post(form[1]!, { ...hidden, ...fields }));
}

async function temporaryCode(address: string): Promise<string> {
  await server.deps.outgoingMail.drain();
  const code = /\b(\d{10})\b/.exec(messagesTo(outbox, address).at(-1)?.text ?? '')?.[1];
  if (!code) throw new Error(`no temporary code for ${address}`);
  return code;
}

const requests = (accountId: string) => server.db.selectFrom('enablements').selectAll().where('account_id', '=', accountId).execute();

describe('service enablement (abilitazione): the request, the temporary code, the wait for identification', () => {
  it('asks for the document, e-mails the temporary code, offers the modulo di adesione as a PDF, then waits; no code reaches the service, other services are unaffected', async () => {
    const { b, account, data, page } = await atTheGate();
    expect(page.response.status).toBe(200);
    expect(page.body).toContain('Abilitazione al servizio');
    expect(page.body).toContain(account.personalEmail!);

    const code = await sendGate(b, page, DOCUMENT);
    expect(code.response.status).toBe(200);
    const [request] = await requests(account.id);
    expect(request).toMatchObject({ state: 'code_sent', service_id: 'istanze-test', number: expect.stringMatching(/^IST-\d{4}-\d{6}$/) });
    expect(request!.temporary_code_hash).toMatch(/^\$argon2id\$/);
    expect(code.body).toContain(`Richiesta n. ${request!.number}`);

    const pdf = await b.get(`/interaction/${/\/interaction\/([^/"]+)\/modulo-adesione/.exec(code.body)![1]}/modulo-adesione`);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    const pages = await readPdf(new Uint8Array(await pdf.arrayBuffer()));
    expect(Math.round(pages[0]!.width)).toBe(595);
    expect(Math.round(pages[0]!.height)).toBe(842);
    const text = pages.map((p) => p.text).join(' ');
    for (const shown of [`Modulo di adesione al servizio Istanze di prova`, request!.number, `${data.givenName} ${data.familyName}`, account.fiscalCode, 'CA12345AB', 'Comune di Roma', 'Firma del richiedente', 'Riservato alla scuola o all\'ufficio']) {
      expect(text).toContain(shown);
    }

    const wrong = await sendGate(b, code, { code: '0000000000' }, 'temporary_code');
    expect(wrong.response.status).toBe(422);
    expect(wrong.body).toContain('Tentativi rimasti: 4');
    const waiting = await sendGate(b, wrong, { code: await temporaryCode(account.personalEmail!) }, 'temporary_code');
    expect(waiting.response.status).toBe(200);
    expect(waiting.body).toContain('In attesa di identificazione');
    expect((await requests(account.id))[0]).toMatchObject({ state: 'awaiting_identification', temporary_code_hash: null });

    // the next sign-in to the service stops at the same page; prompt=none gets an error, never a code
    const again = await signIn(b, istanze, { username: '', password: '' });
    expect(again.page.body).toContain('In attesa di identificazione');
    const silent = await b.follow(await b.get((await authorizationUrl(istanze, { prompt: 'none' })).url.toString()));
    expect(new URL(silent.url).searchParams.get('error')).toBe('interaction_required');
    // another service opens at once (single sign-on)
    expect((await signIn(b, pago, { username: '', password: '' })).page.url).toContain('code=');
    const actions = await server.db.selectFrom('audit_log').select(['action', 'outcome']).where('subject_id', '=', account.id).where('action', 'like', 'enablement.%').orderBy('id').execute();
    expect(actions.map((a) => `${a.action} ${a.outcome}`)).toEqual(['enablement.requested success', 'enablement.code_confirmed failure', 'enablement.code_confirmed success']);
  });

  it('names each bad field of the form, keeps what was typed and creates nothing', async () => {
    const { b, account, page } = await atTheGate();
    const bad = await sendGate(b, page, { type: 'tessera_biblioteca', number: '12', issuer: '', expiry: '01/01/2001', contacts: '' });
    expect(bad.response.status).toBe(400);
    for (const id of ['type-error', 'number-error', 'issuer-error', 'expiry-error', 'contacts-error']) expect(bad.body).toContain(`id="${id}"`);
    expect(bad.body).toContain('Il documento è scaduto');
    const impossible = await sendGate(b, bad, { ...DOCUMENT, expiry: '31/02/2030' });
    expect(impossible.body).toContain('Scrivi la data di scadenza come GG/MM/AAAA.');
    expect(impossible.body).toContain('value="Comune di Roma"');
    expect(await requests(account.id)).toEqual([]);
  });

  it('the form sent twice at once makes one request; a burst of wrong codes gets five tries, then even the right code waits for a new one', async () => {
    const { b, account, page } = await atTheGate();
    const [first, second] = await Promise.all([sendGate(b, page, DOCUMENT), sendGate(b, page, DOCUMENT)]);
    expect([first.response.status, second.response.status].sort()).toEqual([200, 409]);
    expect(await requests(account.id)).toHaveLength(1);
    await server.deps.outgoingMail.drain();
    expect(messagesTo(outbox, account.personalEmail!).filter((m) => m.subject.includes('codice personale temporaneo'))).toHaveLength(1);

    const codePage = first.response.status === 200 ? first : second;
    const right = await temporaryCode(account.personalEmail!);
    const wrong = right === '1111111111' ? '2222222222' : '1111111111';
    const answers = await Promise.all(Array.from({ length: 8 }, () => sendGate(b, codePage, { code: wrong }, 'temporary_code')));
    expect(answers.every((a) => a.response.status === 422)).toBe(true);
    const failures = await server.db.selectFrom('audit_log').select('id').where('subject_id', '=', account.id).where('action', '=', 'enablement.code_confirmed').execute();
    expect(failures).toHaveLength(5);
    const late = await sendGate(b, codePage, { code: right }, 'temporary_code');
    expect(late.body).toContain('Troppi tentativi errati');
    expect((await requests(account.id))[0]!.state).toBe('code_sent');

    const fresh = await sendGate(b, codePage, {}, 'new_code');
    expect(fresh.body).toContain('Ti abbiamo inviato un nuovo codice');
    const renewed = await temporaryCode(account.personalEmail!);
    expect((await sendGate(b, fresh, { code: renewed }, 'temporary_code')).body).toContain('In attesa di identificazione');
  });
});

describe('identification at a school, and the personal code', () => {
  async function awaiting() {
    const at = await atTheGate();
    const code = await sendGate(at.b, at.page, DOCUMENT);
    const waiting = await sendGate(at.b, code, { code: await temporaryCode(at.account.personalEmail!) }, 'temporary_code');
    expect(waiting.body).toContain('In attesa di identificazione');
    return at;
  }

  async function officerAt(school: string) {
    const { officer, browser: ob } = await signedInOfficer(server, school);
    return { officer, ob, base: `/sidi/gestione-utenze/scuole/${school}/abilitazioni` };
  }

  it('an officer of any school finds the request by CF and confirms it once (a second confirmation at once is told apart); the person is told, sets a personal code and reaches the service', async () => {
    const { b, account, data } = await awaiting();
    const { officer, ob, base } = await officerAt(`RMIC${randomInt(10000, 99999)}X`);
    const search = formFields((await ob.follow(await ob.get(base))).body, /\/abilitazioni\/ricerca$/);
    const found = await ob.follow(await ob.post(search.action, { ...search.fields, codice_fiscale: account.fiscalCode.toLowerCase() }));
    expect(found.body).toContain('n. CA12345AB, rilasciato da Comune di Roma');
    const confirm = formFields(found.body, /\/conferma$/);
    // the box left unticked (a browser then sends no value)
    expect((await ob.follow(await ob.post(confirm.action, { ...confirm.fields, verificato: '' }))).response.status).toBe(400);
    const [one, two] = await Promise.all([ob.follow(await ob.post(confirm.action, { ...confirm.fields, verificato: 'si' })), ob.follow(await ob.post(confirm.action, { ...confirm.fields, verificato: 'si' }))]);
    expect([one.response.status, two.response.status].sort()).toEqual([200, 409]);
    expect((await requests(account.id))[0]).toMatchObject({ state: 'identified', identified_by: officer.id });
    await server.deps.outgoingMail.drain();
    expect(messagesTo(outbox, account.personalEmail!).at(-1)!.subject).toBe('Identificazione confermata per Istanze di prova');
    const missing = await ob.follow(await ob.post(confirm.action.replace(/[0-9a-f-]{36}/, '00000000-0000-4000-8000-000000000000'), { ...confirm.fields, verificato: 'si' }));
    expect(missing.response.status).toBe(404);

    const choose = await signIn(b, istanze, { username: '', password: '' });
    expect(choose.page.body).toContain('Scegli il tuo codice personale');
    const born = data.birthDate.split('-');
    for (const [weak, message] of [['12345678', 'sequenza'], ['55555555', 'tutte uguali'], [`${born[2]}${born[1]}${born[0]}`, 'data di nascita'], ['1234', 'almeno 8']] as const) {
      const refused = await sendGate(b, choose.page, { code: weak, confirm: weak }, 'personal_code');
      expect(refused.response.status).toBe(422);
      expect(refused.body).toContain(message);
    }
    expect((await sendGate(b, choose.page, { code: '48151623', confirm: '48151642' }, 'personal_code')).body).toContain('I due codici non coincidono.');
    const done = await sendGate(b, choose.page, { code: '48151623', confirm: '48151623' }, 'personal_code');
    expect(done.url).toContain('code=');
    const [enabled] = await requests(account.id);
    expect(enabled).toMatchObject({ state: 'enabled' });
    expect(enabled!.personal_code_hash).toMatch(/^\$argon2id\$/);
    expect((await signIn(b, istanze, { username: '', password: '' })).page.url).toContain('code=');
  });

  it('an officer cannot confirm their own identification', async () => {
    const { officer, ob, base } = await officerAt(`TOIC${randomInt(10000, 99999)}W`);
    const { page } = await signIn(ob, istanze, { username: '', password: '' });
    const code = await sendGate(ob, page, DOCUMENT);
    const waiting = await sendGate(ob, code, { code: await temporaryCode(officer.institutionalEmail!) }, 'temporary_code');
    expect(waiting.body).toContain('In attesa di identificazione');
    const search = formFields((await ob.follow(await ob.get(base))).body, /\/abilitazioni\/ricerca$/);
    const found = await ob.follow(await ob.post(search.action, { ...search.fields, codice_fiscale: officer.fiscalCode }));
    const confirm = formFields(found.body, /\/conferma$/);
    const refused = await ob.follow(await ob.post(confirm.action, { ...confirm.fields, verificato: 'si' }));
    expect(refused.response.status).toBe(403);
    expect(refused.body).toContain('Non puoi confermare la tua stessa identificazione');
    expect((await requests(officer.id))[0]!.state).toBe('awaiting_identification');
  });

  it('the officer search refuses a malformed CF and shows nothing for a person without a request waiting', async () => {
    const { ob, base } = await officerAt(`MIIC${randomInt(10000, 99999)}Y`);
    const search = formFields((await ob.follow(await ob.get(base))).body, /\/abilitazioni\/ricerca$/);
    expect((await ob.follow(await ob.post(search.action, { ...search.fields, codice_fiscale: 'NONVALIDO' }))).response.status).toBe(400);
    const nobody = testPerson();
    const account = await server.deps.provisioning.provision(nobody);
    const none = await ob.follow(await ob.post(search.action, { ...search.fields, codice_fiscale: account.fiscalCode }));
    expect(none.body).toContain('Nessuna richiesta in attesa di identificazione');
  });
});

describe('the personal code at work: step-up, recovery, the Area riservata, revocation', () => {
  const PERSONAL = '48151623';

  /** A person enabled for the service (the procedure itself is walked above), signed in to it. */
  async function enabled() {
    const data = testPerson();
    const account = await server.deps.provisioning.provision(data);
    await server.db.insertInto('enablements').values({
      number: `IST-2026-${randomInt(1e6, 9e6)}`, account_id: account.id, service_id: 'istanze-test', state: 'enabled',
      document: JSON.stringify({ type: 'passaporto', number: 'YA1234567', issuer: 'Questura di Roma', expiry: '2031-01-01' }),
      personal_code_hash: await argon2.hash(PERSONAL, { type: argon2.argon2id }), personal_code_set_at: new Date(),
    }).execute();
    const b = browser();
    const { page } = await signIn(b, istanze, { username: account.username, password: data.password });
    expect(page.url).toContain('code=');
    return { b, account };
  }

  async function stepUp(b: FormBrowser) {
    const start = await authorizationUrl(istanze, { acr_values: ACR.personalCode });
    return { start, page: await b.follow(await b.get(start.url.toString())) };
  }

  it('a service asking for the personal-code acr gets it asked even inside the session, and an ID token with that acr and a fresh auth_time', async () => {
    const { b } = await enabled();
    const discovery = await (await fetch(`${server.url}/.well-known/openid-configuration`)).json() as { acr_values_supported: string[] };
    expect(discovery.acr_values_supported).toContain(ACR.personalCode);

    await new Promise((resolve) => setTimeout(resolve, 1100));
    const { start, page } = await stepUp(b);
    expect(page.body).toContain('Conferma con il codice personale');
    const wrong = await sendGate(b, page, { code: '11112222' }, 'confirm_personal_code');
    expect(wrong.response.status).toBe(422);
    expect(wrong.body).toContain('Codice personale errato.');
    const before = Math.floor(Date.now() / 1000);
    const back = await sendGate(b, wrong, { code: PERSONAL }, 'confirm_personal_code');
    const tokens = await redeem(istanze, back.url, start);
    const claims = tokens.claims()!;
    expect(claims.acr).toBe(ACR.personalCode);
    expect(claims.auth_time).toBeGreaterThanOrEqual(before);
    expect(claims.amr).toEqual(expect.arrayContaining(['pwd', 'pin']));

    // a later application asks again (the confirmation is for one submission, two minutes at most)
    const again = await stepUp(b);
    expect(again.page.url).toContain('code=');
    const stale = await server.provider.Session.find(b.cookie(SESSION_COOKIE)!);
    stale!.loginTs! -= 300;
    await stale!.save(3600);
    expect((await stepUp(b)).page.body).toContain('Conferma con il codice personale');
  });

  it('wrong personal codes are throttled: a burst of eight gets five tries', async () => {
    const { b, account } = await enabled();
    const { page } = await stepUp(b);
    const answers = await Promise.all(Array.from({ length: 8 }, () => sendGate(b, page, { code: '11112222' }, 'confirm_personal_code')));
    expect(answers.map((a) => a.response.status).sort()).toEqual([422, 422, 422, 422, 422, 429, 429, 429]);
    const tried = await server.db.selectFrom('audit_log').select('id').where('subject_id', '=', account.id).where('action', '=', 'enablement.personal_code_confirmed').execute();
    expect(tried).toHaveLength(5);
    expect((await sendGate(b, page, { code: PERSONAL }, 'confirm_personal_code')).response.status).toBe(429);
  });

  it('Recupero codice personale from the Area riservata: a temporary code by e-mail, replaced at the next sign-in; revocation by the person; another person\'s request refused', async () => {
    const { b, account } = await enabled();
    const area = await b.follow(await b.get('/area-riservata/abilitazioni'));
    const list = area.url.includes('/interaction/') ? await b.follow(await b.get('/area-riservata/abilitazioni')) : area;
    expect(list.body).toContain('abilitato');
    const recover = formFields(list.body, /\/abilitazioni\/recupero$/);
    const sent = await b.follow(await b.post(recover.action, recover.fields));
    expect(sent.body).toContain('Ti abbiamo inviato un codice personale temporaneo');
    const temporary = await temporaryCode(account.personalEmail!);

    const next = await signIn(b, istanze, { username: '', password: '' });
    expect(next.page.body).toContain('Nuovo codice personale');
    const weak = await sendGate(b, next.page, { temporary, code: '12345678', confirm: '12345678' }, 'recovery');
    expect(weak.response.status).toBe(422);
    const done = await sendGate(b, weak, { temporary, code: '90731826', confirm: '90731826' }, 'recovery');
    expect(done.url).toContain('code=');
    expect((await requests(account.id))[0]).toMatchObject({ state: 'enabled', temporary_code_hash: null });
    const { page } = await stepUp(b);
    expect((await sendGate(b, page, { code: '90731826' }, 'confirm_personal_code')).url).toContain('code=');

    const other = await enabled();
    const theirs = (await requests(other.account.id))[0]!;
    const revokeForm = formFields((await b.follow(await b.get('/area-riservata/abilitazioni'))).body, /\/abilitazioni\/revoca$/);
    const refused = await b.follow(await b.post(revokeForm.action, { ...revokeForm.fields, request: theirs.id }));
    expect(refused.response.status).toBe(404);
    expect((await requests(other.account.id))[0]!.state).toBe('enabled');
    const revoked = await b.follow(await b.post(revokeForm.action, revokeForm.fields));
    expect(revoked.body).toContain('Abilitazione a Istanze di prova revocata');
    expect((await signIn(b, istanze, { username: '', password: '' })).page.body).toContain('Abilitazione al servizio');
  });
});

describe('refusals and the administrator', () => {
  it('an expired temporary code is refused until a new one is asked', async () => {
    const { b, account, page } = await atTheGate();
    const codePage = await sendGate(b, page, DOCUMENT);
    const code = await temporaryCode(account.personalEmail!);
    await server.db.updateTable('enablements').set({ temporary_code_expires_at: new Date(Date.now() - 1000) }).where('account_id', '=', account.id).execute();
    const expired = await sendGate(b, codePage, { code }, 'temporary_code');
    expect(expired.response.status).toBe(422);
    expect(expired.body).toContain('Il codice è scaduto');
    expect((await requests(account.id))[0]!.state).toBe('code_sent');
    await sendGate(b, expired, {}, 'new_code');
    expect((await sendGate(b, expired, { code: await temporaryCode(account.personalEmail!) }, 'temporary_code')).body).toContain('In attesa di identificazione');
  });

  it('an administrator lists a person\'s requests and revokes one from the command line; an unknown number is an error', async () => {
    const { b, account, page } = await atTheGate();
    await sendGate(b, page, DOCUMENT);
    const [request] = await requests(account.id);
    const admin = (...args: string[]) => adminCommand(['enablements', ...args], server.deps.commands);
    const listed = JSON.parse((await admin('list', account.fiscalCode, '--json')).stdout) as Array<{ number: string; state: string }>;
    expect(listed).toEqual([expect.objectContaining({ number: request!.number, state: 'code_sent' })]);
    expect(await admin('revoke', request!.number)).toMatchObject({ code: 0, stdout: `Abilitazione ${request!.number} revocata.` });
    expect(await admin('revoke', 'IST-1999-000000')).toMatchObject({ code: 1, stderr: 'Nessuna richiesta di abilitazione con numero IST-1999-000000.' });
    expect((await admin('frobnicate')).code).toBe(2);
    expect((await requests(account.id))[0]!.state).toBe('revoked');
    const entry = await server.db.selectFrom('audit_log').select(['actor_kind', 'details']).where('subject_id', '=', account.id).where('action', '=', 'enablement.revoked').executeTakeFirstOrThrow();
    expect(entry).toMatchObject({ actor_kind: 'system', details: { number: request!.number, previous: 'code_sent' } });
    // the next sign-in starts a new request
    expect((await signIn(b, istanze, { username: '', password: '' })).page.body).toContain('Invia la richiesta');
  });
});
