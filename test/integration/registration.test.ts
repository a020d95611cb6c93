import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FormBrowser, formFields } from '../support/browser.js';
import { authorizationUrl, redeem, relyingParty, startAuthorization, type RelyingParty } from '../support/oidc.js';
import { messagesTo } from '../support/outbox.js';
import { startTestServer, testPerson, testService, type TestServer } from '../support/server.js';
import { applyOmocodia, computeCodiceFiscale } from '../../src/accounts/codice-fiscale.js';
import { registrationId } from '../../src/registration/store.js';

let server: TestServer;
let rp: RelyingParty;
let outbox: string;
const PASSWORD = 'Quaderno-Blu-42';

beforeAll(async () => {
  outbox = join(mkdtempSync(join(tmpdir(), 'iam-registration-')), 'outbox');
  server = await startTestServer({
    services: [testService({ id: 'servizio-reg', name: 'Servizio Registrazione' })],
    env: { DATA_DIR: join(outbox, '..'), TRUST_PROXY: '1' },
  });
  rp = await relyingParty(server.url, server.services[0]!);
});
afterAll(() => server.close());

const browserAt = (address = `203.0.${randomInt(256)}.${randomInt(1, 255)}`) => new FormBrowser(server.url, { 'x-forwarded-for': address });

type Page = { response: Response; url: string; body: string };

async function submit(browser: FormBrowser, page: { body: string }, action: RegExp, fields: Record<string, string>): Promise<Page> {
  const form = formFields(page.body, action);
  return browser.follow(await browser.post(form.action, { ...form.fields, ...fields }));
}

/** A person nobody registered yet, born in Rome, and a mailbox of their own. */
function newPerson() {
  const p = testPerson();
  return { ...p, email: `reg.${randomBytes(6).toString('hex')}@example.org` };
}
type Person = ReturnType<typeof newPerson>;

const identityFields = (p: Person, place: Record<string, string> = { born_in: 'italy', comune: 'Roma', province: 'RM' }) => ({
  given_name: p.givenName, family_name: p.familyName, sex: p.sex, birth_date: p.birthDate.split('-').reverse().join('/'), ...place,
});

async function mailTo(address: string) {
  await server.deps.outgoingMail.drain();
  return messagesTo(outbox, address);
}

async function lastCode(address: string): Promise<string> {
  const code = /\b(\d{6})\b/.exec((await mailTo(address)).at(-1)?.text ?? '')?.[1];
  if (!code) throw new Error(`no code for ${address}`);
  return code;
}

/** Steps 1–3: up to the code page. */
async function upToCode(browser: FormBrowser, p: Person, start = '/registrazione'): Promise<Page> {
  let page = await browser.follow(await browser.get(start));
  expect(page.response.status).toBe(200);
  page = await submit(browser, page, /\/registrazione\/dati$/, identityFields(p));
  expect(page.url).toMatch(/\/registrazione\/codice-fiscale$/);
  page = await submit(browser, page, /\/registrazione\/codice-fiscale$/, { codice_fiscale: p.fiscalCode });
  expect(page.url).toMatch(/\/registrazione\/email$/);
  page = await submit(browser, page, /\/registrazione\/email$/, { email: p.email, mobile: '+39 333 1234567' });
  expect(page.url).toMatch(/\/registrazione\/verifica$/);
  return page;
}

/** Steps 3b–6. */
async function finish(browser: FormBrowser, p: Person, page: Page): Promise<Page> {
  page = await submit(browser, page, /\/registrazione\/verifica$/, { code: await lastCode(p.email) });
  expect(page.url).toMatch(/\/registrazione\/privacy$/);
  page = await submit(browser, page, /\/registrazione\/privacy$/, { privacy: 'si' });
  expect(page.url).toMatch(/\/registrazione\/username$/);
  page = await submit(browser, page, /\/registrazione\/username$/, {});
  expect(page.url).toMatch(/\/registrazione\/password$/);
  return submit(browser, page, /\/registrazione\/password$/, { password: PASSWORD, confirm: PASSWORD });
}

const cookieRow = async (browser: FormBrowser) => {
  // the attempt behind the browser's cookie, read as the server does
  const token = (browser as unknown as { cookies: Map<string, string> }).cookies.get('iam_registration');
  return token ? server.db.selectFrom('registrations').selectAll().where('id', '=', registrationId(token)).executeTakeFirst() : undefined;
};

describe('Registrati', () => {
  test('from the login page to a new account, signed in at the service', async () => {
    const browser = browserAt();
    const p = newPerson();
    const start = await authorizationUrl(rp);
    const login = await startAuthorization(browser, start);
    const link = /href="(\/registrazione\?interazione=[^"]+)"/.exec(login.body)?.[1];
    expect(link).toBeDefined();
    let page = await upToCode(browser, p, link!.replace(/&amp;/g, '&'));
    expect(page.body).toContain('Servizio Registrazione');

    // a wrong code: named, tries left, nothing advances
    page = await submit(browser, page, /\/registrazione\/verifica$/, { code: String((Number(await lastCode(p.email)) + 1) % 1_000_000).padStart(6, '0') });
    expect(page.response.status).toBe(422);
    expect(page.body).toContain('Codice di verifica: non è corretto. Restano 4 tentativi.');
    page = await submit(browser, page, /\/registrazione\/verifica$/, { code: await lastCode(p.email) });
    expect(page.url).toMatch(/\/registrazione\/privacy$/);

    // privacy must be acknowledged
    const refused = await submit(browser, page, /\/registrazione\/privacy$/, { privacy: '' });
    expect(refused.response.status).toBe(400);
    expect(refused.body).toContain('Informativa: per continuare');
    page = await submit(browser, page, /\/registrazione\/privacy$/, { privacy: 'si' });
    const expected = `${p.givenName}.${p.familyName}`.toLowerCase();
    expect(page.body).toContain(expected);
    page = await submit(browser, page, /\/registrazione\/username$/, {});

    // the policy: errors named, no password echoed
    const weak = await submit(browser, page, /\/registrazione\/password$/, { password: 'corto', confirm: 'corto' });
    expect(weak.response.status).toBe(422);
    expect(weak.body).not.toContain('value="corto"');
    const mismatch = await submit(browser, page, /\/registrazione\/password$/, { password: PASSWORD, confirm: PASSWORD + 'x' });
    expect(mismatch.body).toContain('Ripeti la password: non coincide');
    const done = await submit(browser, page, /\/registrazione\/password$/, { password: PASSWORD, confirm: PASSWORD });

    // back at the service with a code, for the new account
    expect(done.url.startsWith(rp.service.redirectUris[0]!)).toBe(true);
    const tokens = await redeem(rp, done.url, start);
    const account = await server.deps.accounts.findByFiscalCode(p.fiscalCode);
    expect(account).toMatchObject({ username: expect.stringMatching(new RegExp(`^${expected.replace('.', '\\.')}\\d*$`)), personalEmail: p.email, personalEmailVerified: true, mobilePhone: '+393331234567', birthPlace: 'ROMA (RM)' });
    expect(tokens.claims()!.sub).toBe(account!.id);
    expect(tokens.claims()!.amr).toEqual(['pwd']);
    const welcome = (await mailTo(p.email)).at(-1)!;
    expect(welcome.text).toContain(account!.username);
    const created = await server.db.selectFrom('audit_log').select(['action']).where('subject_id', '=', account!.id).execute();
    expect(created.map((r) => r.action)).toEqual(expect.arrayContaining(['account.created', 'registration.completed']));
    // the attempt is gone: the cookie leads to a fresh start
    expect(await cookieRow(browser)).toBeUndefined();
  });

  test('without a sign-in to return to, the last page names the username', async () => {
    const browser = browserAt();
    const p = newPerson();
    const done = await finish(browser, p, await upToCode(browser, p));
    expect(done.response.status).toBe(200);
    expect(done.url).toMatch(/\/registrazione\/fine$/);
    const account = await server.deps.accounts.findByFiscalCode(p.fiscalCode);
    expect(done.body).toContain(account!.username);
  });

  test('every field is checked on the server, named, and the form comes back filled in', async () => {
    const browser = browserAt();
    const page = await browser.follow(await browser.get('/registrazione'));
    const empty = await submit(browser, page, /\/registrazione\/dati$/, { given_name: '', family_name: 'Rossi', sex: '', birth_date: '31/02/1990', born_in: 'italy', comune: 'Roma', province: 'R' });
    expect(empty.response.status).toBe(400);
    for (const text of ['Nome: inseriscilo', 'Sesso: scegli', 'Data di nascita: non è una data valida', 'Provincia: inserisci la sigla']) expect(empty.body).toContain(text);
    expect(empty.body).toContain('value="Rossi"');
    expect(await cookieRow(browser)).toBeUndefined();

    const badPlace = await submit(browser, page, /\/registrazione\/dati$/, { given_name: 'Anna', family_name: 'Rossi', sex: 'F', birth_date: '01/01/1990', born_in: 'italy', comune: 'Nonesiste', province: 'RM' });
    expect(badPlace.response.status).toBe(400);
    expect(badPlace.body).toContain('Comune di nascita: non è nell');
    const badCountry = await submit(browser, page, /\/registrazione\/dati$/, { given_name: 'Anna', family_name: 'Rossi', sex: 'F', birth_date: '01/01/1990', born_in: 'abroad', country: 'Atlantide' });
    expect(badCountry.body).toContain('Stato estero di nascita: non è nell');
  });

  test('the codice fiscale must match names, date, sex and the birth place', async () => {
    const browser = browserAt();
    const p = newPerson();
    let page = await browser.follow(await browser.get('/registrazione'));
    // born in Milan, but the CF says Rome (H501)
    page = await submit(browser, page, /\/registrazione\/dati$/, identityFields(p, { born_in: 'italy', comune: 'Milano', province: 'MI' }));
    const wrongPlace = await submit(browser, page, /\/registrazione\/codice-fiscale$/, { codice_fiscale: p.fiscalCode });
    expect(wrongPlace.response.status).toBe(422);
    expect(wrongPlace.body).toContain('Codice fiscale: non corrisponde al luogo di nascita indicato.');
    expect(wrongPlace.body).toContain(`value="${p.fiscalCode}"`);
    const badCheck = await submit(browser, page, /\/registrazione\/codice-fiscale$/, { codice_fiscale: p.fiscalCode.slice(0, 15) + (p.fiscalCode.endsWith('A') ? 'B' : 'A') });
    expect(badCheck.body).toContain('il formato o il carattere di controllo non è valido');
    const otherName = computeCodiceFiscale({ givenName: 'Zeno', familyName: p.familyName, birthDate: p.birthDate, sex: p.sex, placeCode: 'F205' });
    const wrongName = await submit(browser, page, /\/registrazione\/codice-fiscale$/, { codice_fiscale: otherName });
    expect(wrongName.body).toContain('Codice fiscale: non corrisponde al nome indicato.');
    // born abroad (France, Z110), with an omocodic CF: passes
    let again = await browser.follow(await browser.get('/registrazione/dati'));
    again = await submit(browser, again, /\/registrazione\/dati$/, identityFields(p, { born_in: 'abroad', country: 'Francia' }));
    const french = computeCodiceFiscale({ givenName: p.givenName, familyName: p.familyName, birthDate: p.birthDate, sex: p.sex, placeCode: 'Z110' });
    const ok = await submit(browser, again, /\/registrazione\/codice-fiscale$/, { codice_fiscale: applyOmocodia(french, 1) });
    expect(ok.url).toMatch(/\/registrazione\/email$/);
  });

  test('a codice fiscale already registered: the same pages, then nothing created and its owner told', async () => {
    const owner = testPerson();
    const existing = await server.deps.provisioning.provision(owner);
    const twin = { ...newPerson(), givenName: owner.givenName, familyName: owner.familyName, birthDate: owner.birthDate, sex: owner.sex, fiscalCode: owner.fiscalCode };
    const fresh = newPerson();

    const hit = browserAt();
    const miss = browserAt();
    const hitPage = await upToCode(hit, twin);
    const missPage = await upToCode(miss, fresh);
    const strip = (html: string, p: Person) => html.replace(/name="_csrf" value="[^"]*"/g, '').replace(p.email, 'EMAIL');
    expect(strip(hitPage.body, twin)).toBe(strip(missPage.body, fresh));
    expect(hitPage.response.status).toBe(missPage.response.status);

    const end = await finish(hit, twin, hitPage);
    expect(end.response.status).toBe(200);
    expect(end.body).toContain('Password dimenticata?');
    expect(end.body).toContain('Username dimenticato?');
    const accounts = await server.db.selectFrom('accounts').select('id').where('fiscal_code', '=', owner.fiscalCode).execute();
    expect(accounts).toEqual([{ id: existing.id }]);
    const told = (await mailTo(owner.personalEmail!)).at(-1)!;
    expect(told.subject).toContain('Tentativo di registrazione');
    expect(told.text).toContain(existing.username);
  });

  test('codes expire, allow five tries, and are sent again at most once a minute', async () => {
    const browser = browserAt();
    const p = newPerson();
    let page = await upToCode(browser, p);

    const tooSoon = await submit(browser, page, /\/registrazione\/verifica$/, { azione: 'nuovo-codice' });
    expect(tooSoon.response.status).toBe(429);
    expect(tooSoon.body).toContain('Puoi chiedere un nuovo codice tra');

    const row = await cookieRow(browser);
    await server.db.updateTable('registrations').set({ code_expires_at: new Date(Date.now() - 1000) }).where('id', '=', row!.id).execute();
    const expired = await submit(browser, page, /\/registrazione\/verifica$/, { code: await lastCode(p.email) });
    expect(expired.response.status).toBe(422);
    expect(expired.body).toContain('Codice di verifica: è scaduto');

    // a minute later a new code may go
    await server.db.updateTable('registrations').set({ code_sent_at: new Date(Date.now() - 61_000) }).where('id', '=', row!.id).execute();
    page = await submit(browser, page, /\/registrazione\/verifica$/, { azione: 'nuovo-codice' });
    expect(page.response.status).toBe(200);
    expect(page.body).toContain('Ti abbiamo inviato un nuovo codice.');
    const code = await lastCode(p.email);
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    let last = page;
    for (let i = 0; i < 5; i++) last = await submit(browser, page, /\/registrazione\/verifica$/, { code: wrong });
    expect(last.body).toContain('troppi tentativi sbagliati');
    const spent = await submit(browser, page, /\/registrazione\/verifica$/, { code });
    expect(spent.response.status).toBe(422);
    expect(spent.body).toContain('troppi tentativi sbagliati');
    // later steps stay closed
    const skip = await browser.follow(await browser.get('/registrazione/password'));
    expect(skip.url).toMatch(/\/registrazione\/verifica$/);
  });

  test('an attempt resumes from its cookie, and expires', async () => {
    const browser = browserAt();
    const p = newPerson();
    await upToCode(browser, p);
    const resumed = await browser.follow(await browser.get('/registrazione'));
    expect(resumed.url).toMatch(/\/registrazione\/verifica$/);
    const row = await cookieRow(browser);
    await server.db.updateTable('registrations').set({ created_at: new Date(Date.now() - 2 * 86_400_000), expires_at: new Date(Date.now() - 1000) } as never).where('id', '=', row!.id).execute();
    const gone = await browser.follow(await browser.get('/registrazione/verifica'));
    expect(gone.response.status).toBe(410);
  });

  test('forms carry their own CSRF token', async () => {
    const browser = browserAt();
    const page = await browser.follow(await browser.get('/registrazione'));
    const form = formFields(page.body, /\/registrazione\/dati$/);
    const p = newPerson();
    expect((await browser.post(form.action, { ...form.fields, ...identityFields(p), _csrf: 'forged' })).status).toBe(403);
    expect((await browser.post(form.action, { ...identityFields(p) })).status).toBe(403);
    expect(await cookieRow(browser)).toBeUndefined();
  });

  test('codes to one mailbox are throttled, whoever asks: 429 with Retry-After', async () => {
    const email = `reg.${randomBytes(6).toString('hex')}@example.org`;
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 6; i++) {
      const browser = browserAt();
      const p = { ...newPerson(), email };
      let page = await browser.follow(await browser.get('/registrazione'));
      page = await submit(browser, page, /\/registrazione\/dati$/, identityFields(p));
      page = await submit(browser, page, /\/registrazione\/codice-fiscale$/, { codice_fiscale: p.fiscalCode });
      const sent = await submit(browser, page, /\/registrazione\/email$/, { email });
      statuses.push(sent.response.status);
      retryAfter = sent.response.headers.get('retry-after');
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    expect((await mailTo(email)).length).toBe(5);
  });
});

describe('attempts per address', () => {
  let tight: TestServer;
  beforeAll(async () => {
    tight = await startTestServer({
      env: { DATA_DIR: mkdtempSync(join(tmpdir(), 'iam-reg-ip-')), TRUST_PROXY: '1' },
      registrationLimits: { perIp: { requests: 2, windowSeconds: 3600 }, perSubject: { requests: 5, windowSeconds: 3600 } },
    });
  });
  afterAll(() => tight.close());

  test('a third attempt from one address is refused with 429, the form filled in; another address goes on', async () => {
    const address = `198.18.${randomInt(256)}.${randomInt(1, 255)}`;
    const statuses: number[] = [];
    let last: Page | undefined;
    for (let i = 0; i < 3; i++) {
      const browser = new FormBrowser(tight.url, { 'x-forwarded-for': address });
      const page = await browser.follow(await browser.get('/registrazione'));
      last = await submit(browser, page, /\/registrazione\/dati$/, identityFields(newPerson()));
      statuses.push(last.response.status);
    }
    expect(statuses).toEqual([200, 200, 429]);
    expect(last!.response.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(last!.body).toContain('Troppe richieste di registrazione');
    expect(last!.body).toMatch(/name="family_name"\s+value="[^"]+"/);
    const elsewhere = new FormBrowser(tight.url, { 'x-forwarded-for': `198.19.${randomInt(256)}.${randomInt(1, 255)}` });
    const page = await elsewhere.follow(await elsewhere.get('/registrazione'));
    expect((await submit(elsewhere, page, /\/registrazione\/dati$/, identityFields(newPerson()))).url).toMatch(/codice-fiscale$/);
  });
});

describe('SELF_REGISTRATION=false', () => {
  let off: TestServer;
  let offRp: RelyingParty;
  beforeAll(async () => {
    off = await startTestServer({ services: [testService({ id: 'servizio-noreg' })], env: { DATA_DIR: mkdtempSync(join(tmpdir(), 'iam-noreg-')), SELF_REGISTRATION: 'false' } });
    offRp = await relyingParty(off.url, off.services[0]!);
  });
  afterAll(() => off.close());

  test('hides the link and answers 404', async () => {
    const browser = new FormBrowser(off.url);
    const login = await startAuthorization(browser, await authorizationUrl(offRp));
    expect(login.body).toContain('Password dimenticata?');
    expect(login.body).not.toContain('/registrazione');
    for (const path of ['/registrazione', '/registrazione/dati', '/registrazione/password']) {
      expect((await browser.get(path)).status).toBe(404);
    }
    expect((await browser.post('/registrazione/dati', {})).status).toBe(404);
  });
});
