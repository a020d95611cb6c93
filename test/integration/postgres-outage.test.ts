import { FormBrowser, formFields } from '../support/browser.js';
import { authorizationUrl, refreshRequest, relyingParty, signIn, startAuthorization, type RelyingParty } from '../support/oidc.js';
import { startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres.js';
import { signInAgainWithinSeconds, signInWithRefreshToken, timed } from '../support/outage.js';
import { startTestServer, testPerson, testService, type TestServer } from '../support/server.js';

// A PostgreSQL cluster of this test's own, stopped and started again under a running provider.

let postgres: PrivatePostgres;
let server: TestServer;
let rp: RelyingParty;
const logLines: string[] = [];

beforeAll(async () => {
  postgres = await startPrivatePostgres();
  server = await startTestServer({
    services: [testService({ id: 'servizio-senza-db', name: 'Servizio Senza DB' })],
    env: { DATABASE_URL: postgres.url, LOG_LEVEL: 'warn' },
    logDestination: { write: (line: string) => void logLines.push(line) },
  });
  rp = await relyingParty(server.url, server.services[0]!);
}, 60_000);
afterAll(async () => {
  await server?.close();
  postgres?.remove();
});

describe('PostgreSQL outage', () => {
  it('answers 503 at once while PostgreSQL is down, stays up, and carries on with every account and session when it returns', async () => {
    const person = testPerson();
    const account = await server.deps.provisioning.provision(person);
    const browser = new FormBrowser(server.url);
    const tokens = await signInWithRefreshToken(browser, rp, { username: account.username, password: person.password });
    const newcomer = new FormBrowser(server.url);
    const loginPage = await startAuthorization(newcomer, await authorizationUrl(rp));

    postgres.stop();

    // the login form needs the account: an Italian page, 503, at once
    const form = formFields(loginPage.body, /\/login$/);
    const login = await timed(async () => newcomer.follow(await newcomer.post(form.action, { ...form.fields, username: account.username, password: person.password })));
    expect(login.value.response.status).toBe(503);
    expect(login.value.response.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(login.value.body).toContain('momentaneamente non disponibile');
    expect(login.value.body).not.toContain(person.password);
    expect(login.ms).toBeLessThan(3000);

    // single sign-on needs the account too
    const sso = await timed(async () => browser.follow(await browser.get((await authorizationUrl(rp)).url.toString())));
    expect(sso.value.response.status).toBe(503);
    expect(sso.ms).toBeLessThan(3000);

    const refresh = await timed(() => refreshRequest(rp, tokens.refresh_token!));
    expect(refresh.value.status).toBe(503);
    expect(refresh.value.body.error).toBe('temporarily_unavailable');
    expect(refresh.ms).toBeLessThan(3000);

    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ checks: { database: false } });
    expect((await fetch(`${server.url}/jwks`)).status).toBe(200);

    // the catalogue's cached services are not trusted while its changes cannot be heard
    expect(logLines.some((line) => line.includes('catalogue changes not heard'))).toBe(true);

    postgres.start();

    expect(await signInAgainWithinSeconds(browser, rp)).toContain('code=');
    expect((await refreshRequest(rp, tokens.refresh_token!)).status).toBe(200);
    const fresh = await signIn(new FormBrowser(server.url), rp, { username: account.username, password: person.password });
    expect(fresh.page.url).toContain('code=');
  }, 60_000);
});
