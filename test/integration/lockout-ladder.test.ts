import { randomInt } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FormBrowser, formFields } from '../support/browser.js';
import { authorizationUrl, relyingParty, signIn, startAuthorization, submitLogin, type RelyingParty } from '../support/oidc.js';
import { messagesTo } from '../support/outbox.js';
import { startTestServer, testPerson, testService, type TestServer } from '../support/server.js';

let server: TestServer;
let rp: RelyingParty;
let outbox: string;
const WRONG = 'Sbagliata-Password-9';
const NEW_PASSWORD = 'Gesso-Bianco-42';

beforeAll(async () => {
  outbox = join(mkdtempSync(join(tmpdir(), 'iam-ladder-')), 'outbox');
  server = await startTestServer({
    services: [testService({ id: 'servizio-scala', name: 'Servizio Scala' })],
    env: { DATA_DIR: join(outbox, '..'), TRUST_PROXY: '1' },
    // the ladder of production, with the first lock lasting a second instead of 30 minutes
    throttleLimits: {
      perUsernameAndIp: { failures: 5, windowSeconds: 900 },
      perUsername: { failures: 5, windowSeconds: 86_400 },
      perIp: { failures: 1000, windowSeconds: 3600 },
      perDevice: { failures: 5, windowSeconds: 1800 },
      lockSeconds: 1,
      unlockSeconds: 3 * 86_400,
    },
  });
  rp = await relyingParty(server.url, server.services[0]!);
});
afterAll(() => server.close());

/** A browser nobody has seen, at an address of its own. */
const stranger = () => new FormBrowser(server.url, { 'x-forwarded-for': `198.51.${randomInt(256)}.${randomInt(1, 255)}` });

async function attempt(browser: FormBrowser, username: string, password: string, params: Record<string, string> = {}) {
  const page = await startAuthorization(browser, await authorizationUrl(rp, params));
  return submitLogin(browser, page, username, password);
}

/** Five wrong passwords, each from a new browser at a new address: the answers' statuses. */
async function fiveFailures(username: string) {
  const statuses = [];
  for (let i = 0; i < 5; i++) statuses.push((await attempt(stranger(), username, WRONG)).response.status);
  return statuses;
}

const waitForLockToLapse = () => new Promise((resolve) => setTimeout(resolve, 1200));

async function newAccount() {
  const person = testPerson();
  const account = await server.deps.provisioning.provision(person);
  return { ...account, password: person.password, email: person.personalEmail! };
}

async function mailTo(address: string) {
  await server.deps.outgoingMail.drain();
  return messagesTo(outbox, address);
}

const locks = async (id: string) =>
  (await server.db.selectFrom('audit_log').select('details').where('subject_id', '=', id).where('action', '=', 'account.locked').orderBy('id').execute()).map((r) => r.details.level);

describe('the lockout ladder', () => {
  it('locks for a while after 5 failures, then until the e-mailed link after 5 more; the link sets a new password and unlocks', async () => {
    const account = await newAccount();
    expect(await fiveFailures(account.username)).toEqual([401, 401, 401, 401, 401]);
    const first = await attempt(stranger(), account.username, account.password);
    expect(first.response.status).toBe(429);
    expect(first.body).toContain('Troppi tentativi di accesso non riusciti. Riprova tra');
    expect((await mailTo(account.email)).map((m) => m.subject)).toEqual(['Troppi tentativi di accesso non riusciti alla tua utenza']);
    expect((await mailTo(account.email))[0]!.text).toContain('Dai browser con cui hai già eseguito l\'accesso puoi continuare ad accedere normalmente.');

    await waitForLockToLapse();
    expect(await fiveFailures(account.username)).toEqual([401, 401, 401, 401, 401]);
    const second = await attempt(stranger(), account.username, account.password);
    expect(second.response.status).toBe(429);
    expect(second.body).toContain('da questo browser l&#39;utenza è bloccata');
    expect(await locks(account.id)).toEqual([1, 2]);

    // the lock outlasts the first rung's time: only the link ends it
    await waitForLockToLapse();
    expect((await attempt(stranger(), account.username, account.password)).response.status).toBe(429);

    const unlock = (await mailTo(account.email)).at(-1)!;
    expect(unlock.subject).toBe('La tua utenza è bloccata: sbloccala scegliendo una nuova password');
    const link = /https?:\/\/\S+\/recupero\/password\/nuova\?token=[\w-]+/.exec(unlock.text)![0];
    const browser = stranger();
    const form = await browser.follow(await browser.get(link));
    expect(form.response.status).toBe(200);
    const fields = formFields(form.body, /\/recupero\/password\/nuova$/);
    const done = await browser.follow(await browser.post(fields.action, { ...fields.fields, next: NEW_PASSWORD, confirm: NEW_PASSWORD }));
    expect(done.body).toContain('Password cambiata');

    const after = await attempt(stranger(), account.username, NEW_PASSWORD);
    expect(after.url).toContain('code=');
  });

  it('counts a browser that signed in before on its own: guesses from elsewhere cannot keep the owner out', async () => {
    const account = await newAccount();
    const owner = stranger();
    expect((await signIn(owner, rp, account)).page.url).toContain('code=');

    await fiveFailures(account.username);
    await waitForLockToLapse();
    await fiveFailures(account.username);
    expect(await locks(account.id)).toEqual([1, 2]);
    expect((await attempt(stranger(), account.username, account.password)).response.status).toBe(429);

    // the owner's browser asks for the password again (prompt=login) and gets in
    const back = await attempt(owner, account.username, account.password, { prompt: 'login' });
    expect(back.url).toContain('code=');
  });

  it('gives an unknown username the same answers at every rung', async () => {
    const account = await newAccount();
    const answers = async (username: string) => {
      const seen = [...(await fiveFailures(username))];
      const locked = await attempt(stranger(), username, WRONG);
      seen.push(locked.response.status);
      await waitForLockToLapse();
      seen.push(...(await fiveFailures(username)));
      const unlock = await attempt(stranger(), username, WRONG);
      seen.push(unlock.response.status);
      return { seen, firstMessage: /<div class="alert[^>]*>([\s\S]*?)<\/div>/.exec(locked.body)?.[1], unlockMessage: /<div class="alert[^>]*>([\s\S]*?)<\/div>/.exec(unlock.body)?.[1] };
    };
    const real = await answers(account.username);
    const unknown = await answers(`nessuno.${randomInt(1e9).toString(36).replace(/\d/g, 'x')}`);
    expect(unknown.seen).toEqual(real.seen);
    expect(real.seen).toEqual([401, 401, 401, 401, 401, 429, 401, 401, 401, 401, 401, 429]);
    expect(unknown.unlockMessage).toBe(real.unlockMessage);
    expect(real.unlockMessage).toContain('bloccata');
    expect(unknown.firstMessage?.replace(/\d+/g, 'N')).toBe(real.firstMessage?.replace(/\d+/g, 'N'));
  });
});
