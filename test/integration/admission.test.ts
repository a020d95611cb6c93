import { FormBrowser, formFields } from '../support/browser.js';
import { authorizationUrl, relyingParty, signIn, startAuthorization, type RelyingParty } from '../support/oidc.js';
import { startTestServer, testPerson, testService, type TestServer } from '../support/server.js';

let server: TestServer;
let rp: RelyingParty;

beforeAll(async () => {
  server = await startTestServer({
    services: [testService({ id: 'servizio-affollato', name: 'Servizio Affollato' })],
    // one operation at a time, and no more than 100 ms of password work ahead of a new sign-in
    admission: { concurrency: 1, maxWaitMs: 100, maxEventLoopDelayMs: 10_000, retryAfterSeconds: [120, 300] },
  });
  rp = await relyingParty(server.url, server.services[0]!);
});
afterAll(() => server.close());

/** Fills the password work queue with operations that end when `release` is called. */
function saturate(operations = 6) {
  const waiting: (() => void)[] = [];
  const done = Array.from({ length: operations }, () => server.deps.passwordWork.run(() => new Promise<void>((resolve) => waiting.push(resolve))));
  return async () => {
    while (waiting.length || server.deps.passwordWork.stats().running) {
      waiting.shift()?.();
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await Promise.all(done);
  };
}

const loginAudit = (subjectId: string) =>
  server.db.selectFrom('audit_log').select('outcome').where('subject_id', '=', subjectId).where('action', '=', 'login.password').execute();

describe('admission control', () => {
  it('turns new sign-ins away at once with 503, Retry-After and an Italian page, and lets them in when the wave passes', async () => {
    const person = testPerson();
    const account = await server.deps.provisioning.provision(person);
    const signedIn = new FormBrowser(server.url);
    expect((await signIn(signedIn, rp, { username: account.username, password: person.password })).page.url).toContain('code=');

    const browser = new FormBrowser(server.url);
    const loginPage = await startAuthorization(browser, await authorizationUrl(rp));
    expect(loginPage.response.status).toBe(200);
    const before = (await loginAudit(account.id)).length;

    const release = saturate();
    try {
      // the login form: shed before any argon2 work, the username kept
      const form = formFields(loginPage.body, /\/login$/);
      const shed = await browser.follow(await browser.post(form.action, { ...form.fields, username: account.username, password: person.password }));
      expect(shed.response.status).toBe(503);
      expect(Number(shed.response.headers.get('retry-after'))).toBeGreaterThanOrEqual(120);
      expect(shed.body).toMatch(/Servizio momentaneamente sovraccarico: riprova tra [2-5] minuti/);
      expect(shed.body).toContain(`value="${account.username}"`);
      expect(shed.body).not.toContain(person.password);
      expect(await loginAudit(account.id)).toHaveLength(before);

      // a new authorization request without an SSO session
      const fresh = new FormBrowser(server.url);
      const page = await fresh.follow(await fresh.get((await authorizationUrl(rp)).url.toString()));
      expect(page.response.status).toBe(503);
      expect(page.response.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(page.body).toContain('Servizio momentaneamente sovraccarico');
      expect(page.body).toContain('<html lang="it"');
      const json = await fetch((await authorizationUrl(rp)).url, { headers: { accept: 'application/json' }, redirect: 'manual' });
      expect(json.status).toBe(503);
      expect(await json.json()).toMatchObject({ error: 'temporarily_unavailable' });

      // the cheap endpoints are never queued behind passwords
      for (const path of ['/.well-known/openid-configuration', '/jwks']) {
        expect((await fetch(server.url + path)).status).toBe(200);
      }
      // a browser with an SSO session signs in without a password: not turned away
      expect((await signIn(signedIn, rp, { username: '', password: '' })).page.url).toContain('code=');
      expect(server.deps.passwordWork.stats().shed.queue).toBeGreaterThanOrEqual(3);
    } finally {
      await release();
    }

    // the wave has passed: the same form signs in
    const again = await startAuthorization(browser, await authorizationUrl(rp));
    const form = formFields(again.body, /\/login$/);
    const admitted = await browser.follow(await browser.post(form.action, { ...form.fields, username: account.username, password: person.password }));
    expect(admitted.url).toContain('code=');
  });
});
