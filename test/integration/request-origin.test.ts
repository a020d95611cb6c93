import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { sql } from 'kysely';
import { FormBrowser, formFields } from '../support/browser.js';
import { authorizationUrl, relyingParty, startAuthorization, submitLogin, type RelyingParty } from '../support/oidc.js';
import { startTestServer, testService, type TestServer } from '../support/server.js';

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A request with headers fetch() will not send as given (Host among them). */
function raw(base: string, path: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'GET', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const setCookies = (response: RawResponse) => (response.headers['set-cookie'] ?? []) as string[];

describe('behind one trusted proxy (TRUST_PROXY=1)', () => {
  let server: TestServer;
  let rp: RelyingParty;
  beforeAll(async () => {
    server = await startTestServer({
      services: [testService({ id: 'servizio-proxy' })],
      env: { TRUST_PROXY: '1' },
      throttleLimits: {
        perUsernameAndIp: { failures: 10, windowSeconds: 600 },
        perUsername: { failures: 10, windowSeconds: 600 },
        perIp: { failures: 3, windowSeconds: 600 },
      },
    });
    rp = await relyingParty(server.url, server.services[0]!);
  });
  afterAll(() => server.close());

  it('counts the address the proxy saw, however the client rotates what it puts before it', async () => {
    const statuses: number[] = [];
    const run = randomBytes(1)[0]!; // forged addresses of this run only, the database may be shared
    const forged = (i: number) => [`10.${run}.${i}.1`, `198.18.${run}.${i}`];
    for (let i = 1; i <= 5; i++) {
      // the proxy appends 203.0.113.5; the entries before it are the client's own invention
      const browser = new FormBrowser(server.url, { 'x-forwarded-for': `${forged(i).join(', ')}, 203.0.113.5` });
      const page = await startAuthorization(browser, await authorizationUrl(rp));
      statuses.push((await submitLogin(browser, page, `nessuno.${i}`, 'Sbagliata-1!Aa')).response.status);
    }
    expect(statuses).toEqual([401, 401, 401, 429, 429]);

    const addresses = await server.db.selectFrom('audit_log').select('ip').where('action', '=', 'login.password')
      .where('ip', 'in', ['203.0.113.5', ...[1, 2, 3, 4, 5].flatMap(forged)]).execute();
    expect(new Set(addresses.map((a) => a.ip))).toEqual(new Set(['203.0.113.5']));
  });

  it('publishes only the issuer in discovery and refuses a request for another host', async () => {
    const good = await raw(server.url, '/.well-known/openid-configuration', { host: new URL(server.url).host });
    expect(good.status).toBe(200);
    const discovery = JSON.parse(good.body) as Record<string, unknown>;
    for (const key of ['authorization_endpoint', 'token_endpoint', 'jwks_uri', 'userinfo_endpoint', 'end_session_endpoint']) {
      expect(String(discovery[key])).toMatch(new RegExp(`^${server.url}/`));
    }

    const evil = `evil-${randomBytes(4).toString('hex')}.example`;
    const forgeries: Array<Record<string, string>> = [{ host: evil }, { 'x-forwarded-host': evil }, { host: evil, 'x-forwarded-host': evil }];
    for (const headers of forgeries) {
      const forged = await raw(server.url, '/.well-known/openid-configuration', headers);
      expect(forged.status).toBe(421);
      expect(forged.body).not.toContain(evil);
      expect(forged.body).toContain(server.url);
      expect(forged.body).toContain('lang="it"');
    }
    const audit = await server.db.selectFrom('audit_log').select(['details', 'outcome']).where('action', '=', 'request.wrong_host')
      .where(sql<string>`details->>'host'`, '=', evil).execute();
    expect(audit).toHaveLength(3);
    expect(audit[0]).toMatchObject({ outcome: 'refused', details: { host: evil, path: '/.well-known/openid-configuration' } });
  });

  it('refuses an absolute-form request line naming another host, and serves one naming the issuer', async () => {
    const { connect } = await import('node:net');
    const { host, port } = new URL(server.url);
    const send = (target: string) => new Promise<string>((resolve, reject) => {
      // write, not end: a half-closed socket may be dropped before the answer is ready
      const socket = connect(Number(port), '127.0.0.1', () => socket.write(`GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`));
      let answer = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (answer += chunk));
      socket.on('end', () => resolve(answer));
      socket.on('error', reject);
    });
    const forged = await send('http://evil.example/.well-known/openid-configuration');
    expect(forged).toMatch(/^HTTP\/1\.1 421 /);
    expect(forged).not.toContain('http://evil.example/auth');
    const own = await send(`${server.url}/.well-known/openid-configuration`);
    expect(own).toMatch(/^HTTP\/1\.1 200 /);
    expect(own).toContain(`"authorization_endpoint":"${server.url}/auth"`);
  });

  it('answers /health on any host, for orchestrators calling the container directly', async () => {
    expect((await raw(server.url, '/health', { host: 'app:3000' })).status).toBe(200);
  });
});

describe('with no trusted proxy (the default)', () => {
  let server: TestServer;
  let rp: RelyingParty;
  beforeAll(async () => {
    server = await startTestServer({ services: [testService({ id: 'servizio-diretto' })] });
    rp = await relyingParty(server.url, server.services[0]!);
  });
  afterAll(() => server.close());

  it('ignores X-Forwarded-For and X-Forwarded-Host from clients', async () => {
    const browser = new FormBrowser(server.url, { 'x-forwarded-for': '198.51.100.200', 'x-forwarded-host': 'evil.example' });
    const page = await startAuthorization(browser, await authorizationUrl(rp));
    await submitLogin(browser, page, 'nessuno.diretto', 'Sbagliata-1!Aa');
    const entries = await server.db.selectFrom('audit_log').select('ip').where('action', '=', 'login.password')
      .where('ip', '=', '198.51.100.200').execute();
    expect(entries).toHaveLength(0);

    const discovery = await raw(server.url, '/.well-known/openid-configuration', { 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' });
    expect(discovery.status).toBe(200);
    expect(JSON.parse(discovery.body).token_endpoint).toBe(`${server.url}/token`);
  });
});

describe('with an https ISSUER served through a TLS proxy the app does not know of', () => {
  let server: TestServer;
  const issuer = 'https://iam.test';
  beforeAll(async () => {
    server = await startTestServer({ services: [testService({ id: 'servizio-tls' })], env: { ISSUER: issuer } });
  });
  afterAll(() => server.close());

  it('marks every cookie Secure, names the CSRF cookie __Host-, sends HSTS and publishes https URLs', async () => {
    const service = server.services[0]!;
    const query = new URLSearchParams({
      client_id: service.id,
      response_type: 'code',
      scope: 'openid',
      redirect_uri: service.redirectUris[0]!,
      code_challenge: 'x'.repeat(43),
      code_challenge_method: 'S256',
      state: 'abc',
    });
    const host = { host: 'iam.test' };
    const authorization = await raw(server.url, `/auth?${query}`, host);
    expect(authorization.status).toBe(303);
    const location = String(authorization.headers.location);
    expect(location).toMatch(/^\/interaction\/|^https:\/\/iam\.test\/interaction\//);

    const cookie = setCookies(authorization).map((line) => line.split(';')[0]).join('; ');
    const page = await raw(server.url, new URL(location, issuer).pathname, { ...host, cookie });
    expect(page.status).toBe(200);
    const cookies = [...setCookies(authorization), ...setCookies(page)];
    expect(cookies.length).toBeGreaterThanOrEqual(3);
    for (const line of cookies) expect(line).toMatch(/;\s*secure/i);
    expect(cookies.some((line) => line.startsWith('__Host-iam_csrf=') && /;\s*path=\/(;|$)/i.test(line))).toBe(true);
    expect(page.headers['strict-transport-security']).toMatch(/max-age=\d+/);

    const discovery = JSON.parse((await raw(server.url, '/.well-known/openid-configuration', host)).body) as Record<string, string>;
    expect(discovery.issuer).toBe(issuer);
    expect(discovery.authorization_endpoint).toBe(`${issuer}/auth`);
  });
});

describe('forms', () => {
  let server: TestServer;
  let rp: RelyingParty;
  beforeAll(async () => {
    server = await startTestServer({
      services: [testService({ id: 'servizio-form', redirectUris: ['https://rp.example/cb'], postLogoutRedirectUris: ['https://home.rp.example/'] })],
    });
    rp = await relyingParty(server.url, server.services[0]!);
  });
  afterAll(() => server.close());

  it('refuses a CSRF token taken from another sign-in of the same browser', async () => {
    const browser = new FormBrowser(server.url);
    const first = await startAuthorization(browser, await authorizationUrl(rp));
    const second = await startAuthorization(browser, await authorizationUrl(rp));
    const firstForm = formFields(first.body, /\/login$/);
    const secondForm = formFields(second.body, /\/login$/);
    expect(firstForm.fields._csrf).not.toBe(secondForm.fields._csrf);
    // the browser holds the second interaction; the first one's token must not open it
    const response = await browser.post(secondForm.action, { ...secondForm.fields, _csrf: firstForm.fields._csrf!, username: 'x.y', password: 'z' });
    expect(response.status).toBe(403);
  });

  it("lets a sign-in page's forms lead only to the provider and the service in play", async () => {
    const browser = new FormBrowser(server.url);
    const start = await authorizationUrl(rp);
    const page = await startAuthorization(browser, start);
    const csp = page.response.headers.get('content-security-policy')!;
    expect(csp).toContain("form-action 'self' https://rp.example https://home.rp.example");
    expect(csp).not.toMatch(/form-action[^;]*\*/);

    const home = await fetch(`${server.url}/`);
    expect(home.headers.get('content-security-policy')).toMatch(/form-action 'self'$/);
  });
});
