import { FormBrowser, formFields } from '../support/browser.js';
import { authorizationUrl, relyingParty, signIn, startAuthorization, submitLogin, type RelyingParty } from '../support/oidc.js';
import { startTestServer, testMiUsername, testPerson, testService, type TestServer } from '../support/server.js';

let server: TestServer;
let rp: RelyingParty;
let miOnly: RelyingParty;
const password = 'Corretta-Password-1!';

beforeAll(async () => {
  server = await startTestServer({
    services: [
      testService({ id: 'servizio-a' }),
      testService({ id: 'sidi-prova', name: 'SIDI di prova', acceptedAccountTypes: ['mi'] }),
      testService({ id: 'partner', name: 'Servizio partner', firstParty: false }),
    ],
    env: { TRUST_PROXY: '1' },
    throttleLimits: {
      perUsernameAndIp: { failures: 3, windowSeconds: 600 },
      perUsername: { failures: 5, windowSeconds: 600 },
      perIp: { failures: 50, windowSeconds: 600 },
    },
  });
  rp = await relyingParty(server.url, server.services[0]!);
  miOnly = await relyingParty(server.url, server.services[1]!);
});
afterAll(() => server.close());

let addresses = 0;
/** A browser behind the trusted proxy, seen from its own address. */
function browserFromNewAddress() {
  addresses += 1;
  return new FormBrowser(server.url, { 'x-forwarded-for': `198.51.100.${addresses}` });
}

async function loginPage(browser = new FormBrowser(server.url), target = rp) {
  return { browser, page: await startAuthorization(browser, await authorizationUrl(target)) };
}

describe('login page', () => {
  it('answers an unknown username exactly like a wrong password, keeping the username and never the password', async () => {
    const { username } = await server.deps.provisioning.provision(testPerson());
    const wrong = await loginPage();
    const wrongPassword = await submitLogin(wrong.browser, wrong.page, username, 'Sbagliata-123!');
    const unknown = await loginPage();
    const unknownUser = await submitLogin(unknown.browser, unknown.page, 'nessuno.esiste', 'Sbagliata-123!');

    for (const [result, typed] of [[wrongPassword, username], [unknownUser, 'nessuno.esiste']] as const) {
      expect(result.response.status).toBe(401);
      expect(result.body).toContain('Username o password non corretti');
      expect(result.body).toContain(`value="${typed}"`);
      expect(result.body).not.toContain('Sbagliata-123!');
    }
  });

  it('names each empty field', async () => {
    const { browser, page } = await loginPage();
    const result = await submitLogin(browser, page, '', '');
    expect(result.response.status).toBe(400);
    expect(result.body).toContain('Inserisci username e password.');
    expect(result.body.match(/Campo obbligatorio\./g)).toHaveLength(2);
  });

  it('throttles repeated failures for one username with 429 and Retry-After, even with the right password', async () => {
    const { username } = await server.deps.provisioning.provision(testPerson());
    const { browser, page } = await loginPage();
    let current = page;
    for (let i = 0; i < 3; i++) current = await submitLogin(browser, current, username, `Sbagliata-${i}!`);
    const blocked = await submitLogin(browser, current, username, password);
    expect(blocked.response.status).toBe(429);
    expect(Number(blocked.response.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(blocked.body).toContain('Troppi tentativi');
    if (server.redis) {
      // shared by every instance: the counters live in Redis, with a TTL
      const keys = await server.redis.keys(`*throttle:*${username}*`);
      expect(keys.length).toBeGreaterThan(0);
      for (const key of keys) expect(await server.redis.pttl(key)).toBeGreaterThan(0);
    }
  });

  it('treats an unknown username under attack the same way (no enumeration through the throttle)', async () => {
    const { browser, page } = await loginPage();
    let current = page;
    for (let i = 0; i < 3; i++) current = await submitLogin(browser, current, 'fantasma.inesistente', `Sbagliata-${i}!`);
    const blocked = await submitLogin(browser, current, 'fantasma.inesistente', password);
    expect(blocked.response.status).toBe(429);
  });

  it('locks the account after repeated failures from many addresses', async () => {
    const { username, id } = await server.deps.provisioning.provision(testPerson());
    // failures spread across addresses still count per username
    for (let i = 0; i < 5; i++) {
      const { browser, page } = await loginPage(browserFromNewAddress());
      await submitLogin(browser, page, username, `Sbagliata-${i}!`);
    }
    const audit = await server.db.selectFrom('audit_log').select(['action', 'details']).where('subject_id', '=', id).where('action', '=', 'account.locked').execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]!.details).toMatchObject({ level: 1 });

    // from yet another address the username stays blocked, with the same answer as for any blocked username
    const { browser, page } = await loginPage(browserFromNewAddress());
    const blocked = await submitLogin(browser, page, username, password);
    expect(blocked.response.status).toBe(429);
  });

  it('refuses a form post without the CSRF token', async () => {
    const { browser, page } = await loginPage();
    const form = formFields(page.body, /\/login$/);
    const response = await browser.post(form.action, { username: 'x', password: 'y' });
    expect(response.status).toBe(403);
    expect(await response.text()).toContain('Il modulo è scaduto o non è valido');
  });

  it('refuses an oversized form with 413 and a page', async () => {
    const { browser, page } = await loginPage();
    const form = formFields(page.body, /\/login$/);
    const response = await browser.post(form.action, { ...form.fields, username: 'x', password: 'p'.repeat(40_000) });
    expect(response.status).toBe(413);
    expect(await response.text()).toContain('I dati inviati sono troppo grandi');
  });

  it('shows "procedura scaduta" for an unknown interaction', async () => {
    const response = await new FormBrowser(server.url).get('/interaction/does-not-exist');
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('La procedura di accesso è scaduta');
  });

  it('sends the user back to the service with access_denied on cancel', async () => {
    const { browser, page } = await loginPage();
    const form = formFields(page.body, /\/abort$/);
    const back = await browser.follow(await browser.post(form.action, form.fields));
    expect(new URL(back.url).searchParams.get('error')).toBe('access_denied');
  });
});

describe('account state gate', () => {
  it('stops a suspended account with its own page, and returns access_denied to the service', async () => {
    const { username, id } = await server.deps.provisioning.provision(testPerson());
    await server.deps.accounts.setStatus(id, 'suspended');
    const browser = new FormBrowser(server.url);
    const { page } = await signIn(browser, rp, { username, password });
    expect(page.response.status).toBe(403);
    expect(page.body).toContain('La tua utenza è sospesa');
    const form = formFields(page.body, /\/abort$/);
    const back = await browser.follow(await browser.post(form.action, form.fields));
    expect(back.url.startsWith(rp.service.redirectUris[0]!)).toBe(true);
    expect(new URL(back.url).searchParams.get('error')).toBe('access_denied');
  });

  it('stops a locked account and tells until when', async () => {
    const { username, id } = await server.deps.provisioning.provision(testPerson());
    // a lock written on the account (the administrator's, later); the ladder's locks live in the throttle
    await server.db.updateTable('accounts').set({ locked_until: new Date(Date.now() + 10 * 60_000) }).where('id', '=', id).execute();
    const { page } = await signIn(new FormBrowser(server.url), rp, { username, password });
    expect(page.response.status).toBe(403);
    expect(page.body).toContain('bloccata temporaneamente');
  });

  it('applies to an existing single sign-on session too, and to prompt=none', async () => {
    const { username, id } = await server.deps.provisioning.provision(testPerson());
    const browser = new FormBrowser(server.url);
    const first = await signIn(browser, rp, { username, password });
    expect(first.page.url).toContain('code=');
    await server.deps.accounts.setStatus(id, 'suspended');
    const silent = await startAuthorization(browser, await authorizationUrl(rp, { prompt: 'none' }));
    expect(new URL(silent.url).searchParams.get('error')).toBe('access_denied');
  });
});

describe('service access gate', () => {
  it('refuses a standard account at a service that accepts only MI accounts', async () => {
    const { username } = await server.deps.provisioning.provision(testPerson());
    const browser = new FormBrowser(server.url);
    const { page } = await signIn(browser, miOnly, { username, password });
    expect(page.response.status).toBe(403);
    expect(page.body).toContain('SIDI di prova accetta solo le utenze MI');
    const form = formFields(page.body, /\/abort$/);
    const back = await browser.follow(await browser.post(form.action, form.fields));
    expect(new URL(back.url).searchParams.get('error')).toBe('access_denied');
  });

  it('lets an MI account in', async () => {
    const mi = await server.deps.provisioning.provision(
      testPerson({ type: 'mi', username: testMiUsername(), institutionalEmail: { address: 'a.verdi@istruzione.it', state: 'ATTIVA' } }),
    );
    const { page } = await signIn(new FormBrowser(server.url), miOnly, { username: mi.username.toLowerCase(), password });
    expect(page.url).toContain('code=');
  });
});

describe('consent', () => {
  it('asks only services that are not first-party', async () => {
    const { username } = await server.deps.provisioning.provision(testPerson());
    const partner = await relyingParty(server.url, server.services[2]!);
    const browser = new FormBrowser(server.url);
    const { page } = await signIn(browser, partner, { username, password }, { scope: 'openid profile email' });
    expect(page.body).toContain('Servizio partner chiede di accedere ai tuoi dati');
    expect(page.body).toContain('Dati anagrafici: nome, cognome, nome e cognome, username, data di nascita, sesso, tipo di utenza (nome.cognome o MI)');
    expect(page.body).toContain('E-mail: indirizzo e-mail di riferimento, se l&#39;indirizzo e-mail è stato verificato');
    const form = formFields(page.body, /\/consent$/);
    const done = await browser.follow(await browser.post(form.action, { ...form.fields, decision: 'accept' }));
    expect(done.url).toContain('code=');

    // the first-party service of the same session asks nothing
    const firstParty = await startAuthorization(browser, await authorizationUrl(rp));
    expect(firstParty.url).toContain('code=');
  });

  it('returns access_denied when consent is refused', async () => {
    const { username } = await server.deps.provisioning.provision(testPerson());
    const partner = await relyingParty(server.url, server.services[2]!);
    const browser = new FormBrowser(server.url);
    const { page } = await signIn(browser, partner, { username, password });
    const form = formFields(page.body, /\/consent$/);
    const done = await browser.follow(await browser.post(form.action, { ...form.fields, decision: 'deny' }));
    expect(new URL(done.url).searchParams.get('error')).toBe('access_denied');
  });
});

describe('pages for stray requests', () => {
  it.each([
    ['GET', '/no-such-page', 404, 'La pagina richiesta non esiste.'],
    ['GET', '/interaction/abc/login', 405, 'La richiesta non è valida.'],
  ])('%s %s answers %i with an Italian page', async (method, path, status, text) => {
    const response = await fetch(`${server.url}${path}`, { method });
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toContain('text/html');
    expect(await response.text()).toContain(text);
  });
});
