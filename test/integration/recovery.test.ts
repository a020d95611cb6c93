import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FormBrowser, formFields } from '../support/browser.js';
import { authorizationUrl, redeem, refreshRequest, relyingParty, signIn, startAuthorization, submitLogin, type RelyingParty } from '../support/oidc.js';
import { messagesTo } from '../support/outbox.js';
import { startTestServer, testMiUsername, testPerson, testService, type TestServer } from '../support/server.js';
import type { NewAccount } from '../../src/accounts/provisioning.js';

let server: TestServer;
let rp: RelyingParty;
let outbox: string;
const NEW_PASSWORD = 'Lavagna-Verde-7';
const HOUR = 60 * 60;

beforeAll(async () => {
  outbox = join(mkdtempSync(join(tmpdir(), 'iam-recovery-')), 'outbox');
  server = await startTestServer({
    services: [testService({ id: 'servizio-rec', name: 'Servizio Recupero' })],
    // each browser below comes from an address of its own, named by the (trusted) proxy
    env: { DATA_DIR: join(outbox, '..'), TRUST_PROXY: '1' },
    recoveryLimits: { perIp: { requests: 1000, windowSeconds: HOUR }, perSubject: { requests: 5, windowSeconds: HOUR } },
    // three wrong passwords lock an account: enough to see a reset clear the lock
    throttleLimits: {
      perUsernameAndIp: { failures: 3, windowSeconds: 900 },
      perUsername: { failures: 3, windowSeconds: 900 },
      perIp: { failures: 1000, windowSeconds: 900 },
    },
  });
  rp = await relyingParty(server.url, server.services[0]!);
});
afterAll(() => server.close());

/** A browser at an address of its own (a documentation range, random per run: the database may be shared). */
const browserAt = (address = `198.51.${randomInt(256)}.${randomInt(1, 255)}`) => new FormBrowser(server.url, { 'x-forwarded-for': address });

async function newAccount(overrides: Partial<NewAccount> = {}) {
  const person = testPerson(overrides);
  const account = await server.deps.provisioning.provision(person);
  const email = person.institutionalEmail?.address ?? person.personalEmail!;
  return { ...account, password: person.password, email, personalEmail: person.personalEmail };
}

async function openForm(browser: FormBrowser, path: string) {
  const page = await browser.follow(await browser.get(path));
  expect(page.response.status).toBe(200);
  return page;
}

async function submit(browser: FormBrowser, page: { body: string }, action: RegExp, fields: Record<string, string>) {
  const form = formFields(page.body, action);
  return browser.follow(await browser.post(form.action, { ...form.fields, ...fields }));
}

const askReset = async (browser: FormBrowser, username: string, codiceFiscale: string) =>
  submit(browser, await openForm(browser, '/recupero/password'), /\/recupero\/password$/, { username, codice_fiscale: codiceFiscale });

const askUsername = async (browser: FormBrowser, codiceFiscale: string, email: string) =>
  submit(browser, await openForm(browser, '/recupero/username'), /\/recupero\/username$/, { codice_fiscale: codiceFiscale, email });

/** The messages to `address`, once the ones under way are written. */
async function mailTo(address: string) {
  await server.deps.outgoingMail.drain();
  return messagesTo(outbox, address);
}

async function resetLink(address: string): Promise<string> {
  const messages = await mailTo(address);
  const last = messages.at(-1);
  const link = last && /https?:\/\/\S+\/recupero\/password\/nuova\?token=[\w-]+/.exec(last.text)?.[0];
  if (!link) throw new Error(`no recovery link for ${address}: ${messages.length} message(s)`);
  return link;
}

async function setPassword(browser: FormBrowser, link: string, next: string, confirm = next) {
  const page = await browser.follow(await browser.get(link));
  if (page.response.status !== 200) return page;
  return submit(browser, page, /\/recupero\/password\/nuova$/, { next, confirm });
}

const audit = (subjectId: string, action: string) =>
  server.db.selectFrom('audit_log').select(['outcome', 'details']).where('subject_id', '=', subjectId).where('action', '=', action).orderBy('id').execute();

const refresh = (refreshToken: string) => refreshRequest(rp, refreshToken);

/** Another valid codice fiscale, of nobody in particular. */
const otherFiscalCode = () => testPerson().fiscalCode;

describe('Password dimenticata?', () => {
  it('answers a match and a miss with the same page, and mails only the match', async () => {
    const account = await newAccount();
    const hit = await askReset(browserAt(), account.username, account.fiscalCode);
    const wrongCf = await askReset(browserAt(), account.username, otherFiscalCode());
    const unknown = await askReset(browserAt(), `nessuno.${randomBytes(3).toString('hex').replace(/\d/g, 'x')}`, account.fiscalCode);

    expect(hit.response.status).toBe(200);
    expect(hit.body).toContain('Controlla la tua e-mail');
    expect(hit.body).toContain('Il link vale 30 minuti');
    for (const miss of [wrongCf, unknown]) {
      expect(miss.response.status).toBe(hit.response.status);
      expect(miss.body).toBe(hit.body);
    }
    expect(hit.body).not.toContain(account.username);

    const messages = await mailTo(account.email);
    expect(messages).toHaveLength(1);
    const [message] = messages;
    expect(message!.subject).toBe('Scegli una nuova password per IAM Istruzione');
    expect(message!.text).toContain(`Gentile Anna ${account.familyName},`);
    expect(message!.text).toMatch(/\/recupero\/password\/nuova\?token=[\w-]{43}/);
    expect(message!.text).toContain('Il link vale 30 minuti e si può usare una sola volta.');
    expect(message!.html).toContain('<html lang="it">');
    expect(message!.html).toMatch(/href="http:\/\/127\.0\.0\.1:\d+\/recupero\/password\/nuova\?token=[\w-]{43}"/);

    // only the hash of the token is stored
    const token = /token=([\w-]{43})/.exec(message!.text)![1]!;
    const rows = await server.db.selectFrom('recovery_tokens').select(['token_hash', 'expires_at', 'created_at']).where('account_id', '=', account.id).execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(rows[0]!.token_hash).not.toContain(token);
    expect(rows[0]!.expires_at.getTime() - rows[0]!.created_at.getTime()).toBe(30 * 60 * 1000);

    expect(await audit(account.id, 'recovery.password_requested')).toEqual([
      { outcome: 'success', details: { reason: 'link_sent' } },
      { outcome: 'failure', details: { reason: 'fiscal_code_mismatch' } },
    ]);
  });

  it('sets the new password through the link: lock cleared, sessions and tokens revoked, then back to the service', async () => {
    const account = await newAccount();
    // the owner is signed in somewhere, with a refresh token
    const elsewhere = browserAt();
    const { start, page: callback } = await signIn(elsewhere, rp, account, { scope: 'openid offline_access', prompt: 'consent' });
    const tokens = await redeem(rp, callback.url, start);
    expect(tokens.refresh_token).toBeDefined();
    // someone else locks the account with wrong passwords
    const attacker = browserAt();
    for (let i = 0; i < 3; i++) {
      const login = await startAuthorization(attacker, await authorizationUrl(rp));
      await submitLogin(attacker, login, account.username, 'Sbagliata-Password-1!');
    }
    // a browser the account does not know is now refused, even with the right password
    const stranger = browserAt();
    const refused = await submitLogin(stranger, await startAuthorization(stranger, await authorizationUrl(rp)), account.username, account.password);
    expect(refused.response.status).toBe(429);

    // the owner starts a sign-in, and follows Password dimenticata? from the login page
    const browser = browserAt();
    const signInStart = await authorizationUrl(rp);
    const login = await startAuthorization(browser, signInStart);
    const forgot = /href="(\/recupero\/password\?interazione=[^"]+)"/.exec(login.body)?.[1];
    expect(forgot).toBeDefined();
    const form = await openForm(browser, forgot!.replace(/&amp;/g, '&'));
    expect(form.body).toContain('Servizio Recupero');
    expect(form.body).toContain('Torna all&#39;accesso a Servizio Recupero');
    const sent = await submit(browser, form, /\/recupero\/password$/, { username: account.username, codice_fiscale: account.fiscalCode.toLowerCase() });
    expect(sent.response.status).toBe(200);

    const link = await resetLink(account.email);
    const resetPage = await browser.follow(await browser.get(link));
    expect(resetPage.response.status).toBe(200);
    expect(resetPage.body).toContain('La password deve rispettare queste regole:');
    expect(resetPage.body).toContain('da 8 a 128 caratteri');

    const weak = await submit(browser, resetPage, /\/recupero\/password\/nuova$/, { next: 'lavagna', confirm: 'lavagna' });
    expect(weak.response.status).toBe(422);
    expect(weak.body).toContain('La password non rispetta questa regola: almeno una lettera maiuscola');
    expect(weak.body).not.toContain('value="lavagna"');
    const same = await submit(browser, weak, /\/recupero\/password\/nuova$/, { next: account.password, confirm: account.password });
    expect(same.response.status).toBe(422);
    expect(same.body).toContain('non deve essere una delle ultime 5 password');
    const mismatch = await submit(browser, same, /\/recupero\/password\/nuova$/, { next: NEW_PASSWORD, confirm: `${NEW_PASSWORD}x` });
    expect(mismatch.response.status).toBe(400);
    expect(mismatch.body).toContain('Le due password non coincidono.');

    const done = await submit(browser, mismatch, /\/recupero\/password\/nuova$/, { next: NEW_PASSWORD, confirm: NEW_PASSWORD });
    expect(done.response.status).toBe(200);
    expect(done.body).toContain('Password cambiata');
    expect(done.body).toContain('ora puoi accedere con la nuova password');

    // stored under the policy, lock cleared, history and audit written
    const after = await server.deps.accounts.findById(account.id);
    expect(after!.accessRevokedAt).not.toBeNull();
    expect(await audit(account.id, 'password.changed')).toEqual([{ outcome: 'success', details: { reason: 'reset' } }]);
    expect(await audit(account.id, 'recovery.password_completed')).toHaveLength(1);
    expect((await server.deps.accounts.passwordHistory(account.id))).toHaveLength(2);

    // everything the account held is gone: the refresh token, the access token, the SSO session
    expect(await refresh(tokens.refresh_token!)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    const userinfo = await fetch(rp.config.serverMetadata().userinfo_endpoint!, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(userinfo.status).toBe(401);
    const silent = await startAuthorization(elsewhere, await authorizationUrl(rp, { prompt: 'none' }));
    expect(new URL(silent.url).searchParams.get('error')).toBe('login_required');

    // the owner is told, at the reference address
    const messages = await mailTo(account.email);
    expect(messages.map((m) => m.subject)).toEqual([
      'Troppi tentativi di accesso non riusciti alla tua utenza',
      'Scegli una nuova password per IAM Istruzione',
      'La password di IAM Istruzione è stata cambiata',
    ]);

    // the way back leads to the sign-in this browser started: the new password works there
    const back = /<a class="btn btn-primary" href="(\/interaction\/[^"]+)">Accedi a Servizio Recupero<\/a>/.exec(done.body)?.[1];
    expect(back).toBeDefined();
    const again = await browser.follow(await browser.get(back!));
    expect(again.body).toContain('name="password"');
    const oldPassword = await submitLogin(browser, again, account.username, account.password);
    expect(oldPassword.response.status).toBe(401);
    const signedIn = await submitLogin(browser, oldPassword, account.username, NEW_PASSWORD);
    expect(signedIn.url).toContain('code=');
    expect((await redeem(rp, signedIn.url, signInStart)).claims()?.sub).toBe(account.id);

    // the link worked once
    const reused = await browserAt().get(link);
    expect(reused.status).toBe(410);
    expect(await reused.text()).toContain('Questo link è già stato usato');
  });

  it('gives expired, unknown and superseded links their own pages, with the way to a new one', async () => {
    const account = await newAccount();
    await askReset(browserAt(), account.username, account.fiscalCode);
    const link = await resetLink(account.email);
    const thirtyOneMinutesAgo = new Date(Date.now() - 31 * 60 * 1000);
    await server.db.updateTable('recovery_tokens')
      .set({ created_at: thirtyOneMinutesAgo, expires_at: new Date(thirtyOneMinutesAgo.getTime() + 30 * 60 * 1000) } as never)
      .where('account_id', '=', account.id).execute();

    const browser = browserAt();
    const expired = await browser.follow(await browser.get(link));
    expect(expired.response.status).toBe(410);
    expect(expired.body).toContain('Link scaduto');
    expect(expired.body).toContain('<a class="btn btn-primary" href="/recupero/password">Chiedi un nuovo link</a>');
    // the form cannot outrun it either
    const posted = await browser.post('/recupero/password/nuova', { _csrf: formFields((await openForm(browser, '/recupero/password')).body, /\/recupero\/password$/).fields._csrf!, token: new URL(link).searchParams.get('token')!, next: NEW_PASSWORD, confirm: NEW_PASSWORD });
    expect(posted.status).toBe(403); // the CSRF token of another form
    expect((await server.deps.accounts.passwordHistory(account.id))).toHaveLength(1);

    const unknown = await browser.get(`/recupero/password/nuova?token=${randomBytes(32).toString('base64url')}`);
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toContain('Il link non è valido');
    expect((await browser.get('/recupero/password/nuova')).status).toBe(404);

    // a password changed by another way retires the links asked for before
    await askReset(browserAt(), account.username, account.fiscalCode);
    const pending = await resetLink(account.email);
    expect(await server.deps.passwords.change(account.id, { current: account.password, next: 'Quaderno-Blu-2b', reason: 'voluntary', from: {} })).toMatchObject({ ok: true });
    const retired = await browser.get(pending);
    expect(retired.status).toBe(410);
    expect(await retired.text()).toContain('la password è stata cambiata dopo la richiesta');
  });

  it('lets one of two simultaneous uses of a link through, and only one', async () => {
    const account = await newAccount();
    await askReset(browserAt(), account.username, account.fiscalCode);
    const link = await resetLink(account.email);
    const browsers = [browserAt(), browserAt()];
    const pages = await Promise.all(browsers.map(async (b) => b.follow(await b.get(link))));
    const candidates = ['Lavagna-Verde-7', 'Quaderno-Blu-2b'];
    // both submissions pass every check before either stores: only the atomic claim can stop one
    const reset = server.deps.passwords.reset;
    let arrived = 0;
    let bothArrived!: () => void;
    const barrier = new Promise<void>((resolve) => (bothArrived = resolve));
    server.deps.passwords.reset = async (...args) => {
      if (++arrived === 2) bothArrived();
      await barrier;
      return reset(...args);
    };
    const outcomes = await Promise.all(browsers.map((b, i) => submit(b, pages[i]!, /\/recupero\/password\/nuova$/, { next: candidates[i]!, confirm: candidates[i]! })))
      .finally(() => (server.deps.passwords.reset = reset));
    expect(arrived).toBe(2);
    expect(outcomes.map((o) => o.response.status).sort()).toEqual([200, 410]);
    const winner = candidates[outcomes.findIndex((o) => o.response.status === 200)]!;
    expect(outcomes.find((o) => o.response.status === 410)!.body).toContain('Questo link è già stato usato');

    expect(await audit(account.id, 'recovery.password_completed')).toHaveLength(1);
    expect(await server.deps.accounts.passwordHistory(account.id)).toHaveLength(2);
    const signedIn = await signIn(browserAt(), rp, { username: account.username, password: winner });
    expect(signedIn.page.url).toContain('code=');
  });

  it('tells an MI username that the school resets it, and sends nothing', async () => {
    const username = testMiUsername();
    const address = `segreteria.${randomBytes(4).toString('hex')}@istruzione.it`;
    const account = await newAccount({ type: 'mi', username, institutionalEmail: { address, state: 'ATTIVA' } });
    for (const [typed, cf] of [[username, account.fiscalCode], [username.toLowerCase(), '']] as const) {
      const page = await askReset(browserAt(), typed, cf);
      expect(page.response.status).toBe(200);
      expect(page.body).toContain('Utenze MI: la password si reimposta tramite la scuola');
      expect(page.body).toContain('Responsabile della sicurezza della tua scuola');
      expect(page.body).toContain('Non è stato inviato alcun messaggio.');
    }
    expect(await mailTo(address)).toEqual([]);
    expect(await server.db.selectFrom('recovery_tokens').select('id').where('account_id', '=', account.id).execute()).toEqual([]);
  });

  it('sends a suspended account nothing, and no longer opens a link it had', async () => {
    const account = await newAccount();
    await askReset(browserAt(), account.username, account.fiscalCode);
    const link = await resetLink(account.email);
    await server.deps.accountStatus.suspend(account.id, { kind: 'admin' });

    const answer = await askReset(browserAt(), account.username, account.fiscalCode);
    expect(answer.body).toContain('Controlla la tua e-mail');
    expect(await mailTo(account.email)).toHaveLength(1);
    expect((await audit(account.id, 'recovery.password_requested')).at(-1)).toEqual({ outcome: 'refused', details: { reason: 'suspended' } });

    const page = await browserAt().get(link);
    expect(page.status).toBe(403);
    expect(await page.text()).toContain('non si può reimpostare da qui');
  });

  it('names every bad field, shows the form again filled in, and refuses a form without its CSRF token', async () => {
    const browser = browserAt();
    const empty = await askReset(browser, '', '');
    expect(empty.response.status).toBe(400);
    expect(empty.body).toContain('Inserisci lo username.');
    expect(empty.body).toContain('Inserisci il codice fiscale.');

    const bad = await submit(browser, empty, /\/recupero\/password$/, { username: 'mario rossi!', codice_fiscale: 'RSSMRA80A01H501X' });
    expect(bad.response.status).toBe(400);
    expect(bad.body).toContain('Lo username non è valido');
    expect(bad.body).toContain('Il codice fiscale non è valido: controlla i 16 caratteri.');
    expect(bad.body).toContain('value="mario rossi!"');
    expect(bad.body).toContain('value="RSSMRA80A01H501X"');
    expect(bad.body).toMatch(/id="codice_fiscale"[^>]*aria-invalid="true"/);

    const account = await newAccount();
    const forged = await browser.post('/recupero/password', { username: account.username, codice_fiscale: account.fiscalCode });
    expect(forged.status).toBe(403);
    const otherScope = formFields((await openForm(browser, '/recupero/username')).body, /\/recupero\/username$/).fields._csrf!;
    expect((await browser.post('/recupero/password', { _csrf: otherScope, username: account.username, codice_fiscale: account.fiscalCode })).status).toBe(403);
    expect(await mailTo(account.email)).toEqual([]);
    expect(await audit(account.id, 'recovery.password_requested')).toEqual([]);
  });

  it('throttles requests naming one username, from any address: 429, Retry-After, the form filled in', async () => {
    const account = await newAccount();
    const statuses: number[] = [];
    let last!: Awaited<ReturnType<typeof askReset>>;
    for (let i = 0; i < 6; i++) {
      last = await askReset(browserAt(), account.username, account.fiscalCode);
      statuses.push(last.response.status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    expect(Number(last.response.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(last.body).toMatch(/Troppe richieste di recupero\. Riprova tra \d+ minuti\./);
    expect(last.body).toContain(`value="${account.username}"`);
    expect(await mailTo(account.email)).toHaveLength(5);
    // an unknown username is counted the same way
    const nobody = `nessuno.${randomBytes(3).toString('hex').replace(/\d/g, 'y')}`;
    const unknownStatuses: number[] = [];
    const someone = otherFiscalCode();
    for (let i = 0; i < 6; i++) unknownStatuses.push((await askReset(browserAt(), nobody, someone)).response.status);
    expect(unknownStatuses).toEqual([200, 200, 200, 200, 200, 429]);
  });
});

describe('Username dimenticato?', () => {
  it('mails the username to the reference address on a match, and answers a miss the same way', async () => {
    const institutional = `docente.${randomBytes(4).toString('hex')}@posta.istruzione.it`;
    const account = await newAccount({ institutionalEmail: { address: institutional, state: 'ATTIVA' } });
    const hit = await askUsername(browserAt(), account.fiscalCode, account.personalEmail!.toUpperCase());
    const wrongEmail = await askUsername(browserAt(), account.fiscalCode, 'qualcun.altro@example.org');
    const unknownCf = await askUsername(browserAt(), otherFiscalCode(), account.personalEmail!);
    expect(hit.response.status).toBe(200);
    expect(hit.body).toContain('riceverai lo username');
    for (const miss of [wrongEmail, unknownCf]) {
      expect(miss.response.status).toBe(200);
      expect(miss.body).toBe(hit.body);
    }

    // to the institutional address (the reference one), not the typed personal one
    expect(await mailTo(account.personalEmail!)).toEqual([]);
    const [message, ...others] = await mailTo(institutional);
    expect(others).toEqual([]);
    expect(message!.subject).toBe('Il tuo username di IAM Istruzione');
    expect(message!.text).toContain(`Il tuo username è: ${account.username}`);
    expect(message!.html).toContain(`Il tuo username è: ${account.username}`);
    expect(await audit(account.id, 'recovery.username_requested')).toEqual([{ outcome: 'success', details: { reason: 'username_sent' } }]);
  });

  it('names bad fields and throttles one codice fiscale', async () => {
    const bad = await askUsername(browserAt(), '', 'non-una-email');
    expect(bad.response.status).toBe(400);
    expect(bad.body).toContain('Inserisci il codice fiscale.');
    expect(bad.body).toContain('L&#39;indirizzo e-mail non è valido.');
    expect(bad.body).toContain('value="non-una-email"');

    const cf = otherFiscalCode();
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await askUsername(browserAt(), cf, `x${i}@example.org`)).response.status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
  });
});

describe('recovery from one address', () => {
  let small: TestServer;
  beforeAll(async () => {
    small = await startTestServer({ recoveryLimits: { perIp: { requests: 3, windowSeconds: HOUR }, perSubject: { requests: 100, windowSeconds: HOUR } } });
  });
  afterAll(() => small.close());

  it('is throttled per address, whatever the usernames', async () => {
    const browser = new FormBrowser(small.url);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const page = await browser.follow(await browser.get('/recupero/password'));
      const form = formFields(page.body, /\/recupero\/password$/);
      const answer = await browser.post(form.action, { ...form.fields, username: `nessuno.numero${'abcd'[i]}`, codice_fiscale: otherFiscalCode() });
      statuses.push(answer.status);
      if (answer.status === 429) expect(answer.headers.get('retry-after')).toMatch(/^\d+$/);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
  });
});
