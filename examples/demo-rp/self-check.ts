// Self-check: `npx tsx examples/demo-rp/self-check.ts`.
// Drives two demo RPs through a throwaway oidc-provider that uses the library's development
// login pages (any username and password). It checks the RP, not the project's provider.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import { createDemoRp, type DemoClient, type DemoRp } from './app.js';

/** A cookie jar keyed by host name (cookies ignore ports, as browsers do); paths ignored. */
class Browser {
  readonly #jar = new Map<string, Map<string, string>>();

  /** One request, no redirects followed. */
  async request(url: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<Response> {
    const { hostname } = new URL(url);
    const cookies = [...(this.#jar.get(hostname) ?? new Map()).entries()].map(([k, v]) => `${k}=${v}`).join('; ');
    const response = await fetch(url, {
      method: init.method ?? (init.form ? 'POST' : 'GET'),
      redirect: 'manual',
      headers: { ...(cookies ? { cookie: cookies } : {}), ...(init.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      ...(init.form ? { body: new URLSearchParams(init.form).toString() } : {}),
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const [name = '', value = ''] = pair.trim().split(/=(.*)/s);
      const jar = this.#jar.get(hostname) ?? new Map<string, string>();
      this.#jar.set(hostname, jar);
      const expired = attributes.some((a) => /^\s*expires=Thu, 01 Jan 1970/i.test(a) || /^\s*max-age=0/i.test(a));
      if (expired || !value) jar.delete(name);
      else jar.set(name, value);
    }
    return response;
  }

  /** Follows redirects; returns the last response and its URL. */
  async go(url: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<{ url: string; response: Response }> {
    let response = await this.request(url, init);
    for (let hops = 0; hops < 20 && response.status >= 300 && response.status < 400; hops += 1) {
      url = new URL(response.headers.get('location')!, url).href;
      response = await this.request(url);
    }
    return { url, response };
  }
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function demoClient(id: string, name: string, port: number): DemoClient {
  return {
    id,
    name,
    clientSecret: `${id}-secret-for-the-self-check-only`,
    redirectUris: [`http://localhost:${port}/callback`],
    postLogoutRedirectUris: [`http://localhost:${port}/`],
    scopes: ['openid', 'profile', 'email', 'offline_access'],
    demoPort: port,
  };
}

async function startProvider(clients: DemoClient[]): Promise<{ issuer: string; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://localhost:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    clients: clients.map((c) => ({
      client_id: c.id,
      client_secret: c.clientSecret,
      redirect_uris: c.redirectUris,
      post_logout_redirect_uris: c.postLogoutRedirectUris,
      grant_types: ['authorization_code', 'refresh_token'],
      backchannel_logout_uri: c.redirectUris[0]!.replace('/callback', '/backchannel-logout'),
      backchannel_logout_session_required: true,
    })),
    features: { backchannelLogout: { enabled: true }, devInteractions: { enabled: true } },
    claims: { openid: ['sub'], profile: ['name'], email: ['email'] },
    pkce: { required: () => true },
    // oidc-provider's own dispatcher refuses loopback addresses (SSRF guard), where the RPs live here.
    fetch: (url, init) => globalThis.fetch(url, { ...init, dispatcher: undefined } as RequestInit),
    findAccount: (_ctx, sub) => ({
      accountId: sub,
      claims: () => ({ sub, name: `Utente <${sub}>`, email: `${sub}@istruzione.it` }),
    }),
  });
  provider.on('backchannel.error', (_ctx, err) => console.error(`  (provider) back-channel logout failed: ${err}`));
  server.on('request', provider.callback());
  return { issuer, server };
}

function formField(html: string, name: string): string {
  const match = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
  assert.ok(match, `form field ${name} not found`);
  return match[1]!;
}

/** Walks the dev login and consent pages until the provider sends the browser back to the RP. */
async function signIn(browser: Browser, rp: DemoRp, query = ''): Promise<string> {
  let { url, response } = await browser.go(`${rp.url}/login${query}`);
  for (let step = 0; step < 4 && url.includes('/interaction/'); step += 1) {
    const page = await response.text();
    const form: Record<string, string> = page.includes('name="login"')
      ? { prompt: 'login', login: 'mario.rossi', password: 'x' }
      : { prompt: 'consent' };
    ({ url, response } = await browser.go(url, { form }));
  }
  assert.equal(new URL(url).origin, rp.url, `expected to land on the RP, got ${url}`);
  return response.text();
}

async function main(): Promise<void> {
  const [port1, port2] = [await freePort(), await freePort()];
  const one = demoClient('servizio-uno', 'Servizio Uno', port1);
  const two = demoClient('servizio-due', 'Servizio Due', port2);
  const { issuer, server } = await startProvider([one, two]);
  const log = (line: string) => console.log(`  (log) ${line}`);
  const rp1 = await createDemoRp({ client: one, issuer, log });
  const rp2 = await createDemoRp({ client: two, issuer, log });
  const browser = new Browser();

  try {
    let page = await (await browser.go(`${rp1.url}/`)).response.text();
    assert.match(page, /href="\/login">Accedi</);

    // prompt=consent is what makes oidc-provider keep offline_access, so a refresh token comes back.
    page = await signIn(browser, rp1, '?prompt=consent');
    assert.match(page, /Utente &lt;mario.rossi&gt;/, 'claims are shown, escaped');
    assert.match(page, /Aggiorna token/);
    assert.equal(rp1.sessions.signedIn().length, 1);
    console.log('ok  sign-in with PKCE, state, nonce; claims and userinfo shown');

    page = await (await browser.go(`${rp1.url}/refresh`, { method: 'POST' })).response.text();
    assert.match(page, /Token aggiornati/);
    console.log('ok  refresh');

    page = await signIn(browser, rp2);
    assert.match(page, /mario.rossi@istruzione.it/);
    console.log('ok  single sign-on at the second service (no password asked)');

    // RP-initiated logout at service one; the dev logout page asks for confirmation.
    let { url, response } = await browser.go(`${rp1.url}/logout`);
    assert.match(url, /\/session\/end/);
    ({ url, response } = await browser.go(new URL('/session/end/confirm', issuer).href, {
      form: { xsrf: formField(await response.text(), 'xsrf'), logout: 'yes' },
    }));
    assert.equal(new URL(url).origin, rp1.url);
    assert.match(await response.text(), /Sei uscito da Servizio Uno/);
    assert.equal(rp2.backchannelLogouts.length, 1, 'service two was told by back-channel');
    assert.equal(rp2.backchannelLogouts[0]!.destroyedSessions, 1);
    assert.equal(rp2.sessions.signedIn().length, 0);
    page = await (await browser.go(`${rp2.url}/`)).response.text();
    assert.match(page, />Accedi</);
    console.log('ok  RP-initiated logout and back-channel logout of the other service');

    // Abort at the login page: the provider answers access_denied to the callback.
    ({ url } = await browser.go(`${rp1.url}/login`));
    ({ response } = await browser.go(`${url}/abort`));
    assert.equal(response.status, 400);
    assert.match(await response.text(), /access_denied/);
    console.log('ok  provider error shown as a page');

    response = await browser.request(`${rp1.url}/backchannel-logout`, { form: { logout_token: 'not.a.jwt' } });
    assert.equal(response.status, 400);
    assert.deepEqual(await response.json(), { error: 'invalid_request' });
    assert.equal(rp1.rejectedBackchannelLogouts.length, 1);
    response = await new Browser().request(`${rp1.url}/callback?code=x&state=y`);
    assert.equal(response.status, 400);
    response = await browser.request(`${rp1.url}/nowhere`);
    assert.equal(response.status, 404);
    console.log('ok  invalid logout token, stray callback, unknown page');
    console.log('self-check passed');
  } finally {
    await Promise.all([rp1.close(), rp2.close()]);
    server.closeAllConnections();
    server.close();
  }
}

main().catch((err: unknown) => {
  console.error('self-check FAILED:', err);
  process.exitCode = 1;
});
