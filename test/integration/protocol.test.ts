import { createRemoteJWKSet, jwtVerify } from 'jose';
import { FormBrowser, formFields } from '../support/browser.js';
import { authorizationUrl, client, redeem, relyingParty, signIn, startAuthorization, type RelyingParty } from '../support/oidc.js';
import { startLogoutReceiver, type LogoutReceiver } from '../support/logout-receiver.js';
import { startTestServer, testPerson, testService, type TestServer } from '../support/server.js';

let server: TestServer;
let rpA: RelyingParty;
let rpB: RelyingParty;
let username: string;
const password = 'Corretta-Password-1!';

let receiver: LogoutReceiver;
let logoutTokens: LogoutReceiver['tokens'];

beforeAll(async () => {
  receiver = await startLogoutReceiver();
  logoutTokens = receiver.tokens;
  const receiverUrl = receiver.url;

  server = await startTestServer({
    services: [
      testService({ id: 'servizio-a', backchannelLogoutUri: `${receiverUrl}/a` }),
      testService({ id: 'servizio-b', backchannelLogoutUri: `${receiverUrl}/b` }),
      testService({ id: 'app-pubblica', clientSecret: undefined, grantTypes: ['authorization_code'], scopes: ['openid', 'profile'] }),
      testService({ id: 'servizio-batch', grantTypes: ['client_credentials'], redirectUris: [], postLogoutRedirectUris: [], scopes: ['openid'] }),
    ],
  });
  rpA = await relyingParty(server.url, server.services[0]!);
  rpB = await relyingParty(server.url, server.services[1]!);
  ({ username } = await server.deps.provisioning.provision(testPerson()));
});

afterAll(async () => {
  await server.close();
  receiver.close();
});

async function signedInTokens(browser: FormBrowser, rp: RelyingParty, params: Record<string, string> = {}) {
  const { start, page } = await signIn(browser, rp, { username, password }, params);
  expect(page.url).toContain('code=');
  return redeem(rp, page.url, start);
}

describe('tokens', () => {
  it('rotates refresh tokens on use and refuses the old one', async () => {
    const tokens = await signedInTokens(new FormBrowser(server.url), rpA, { scope: 'openid offline_access', prompt: 'consent' });
    expect(tokens.refresh_token).toBeTruthy();

    const refreshed = await client.refreshTokenGrant(rpA.config, tokens.refresh_token!);
    expect(refreshed.refresh_token).toBeTruthy();
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect(refreshed.claims()?.sub).toBe(tokens.claims()?.sub);

    await expect(client.refreshTokenGrant(rpA.config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('issues no refresh token without offline_access', async () => {
    const tokens = await signedInTokens(new FormBrowser(server.url), rpA, { scope: 'openid profile' });
    expect(tokens.refresh_token).toBeUndefined();
  });

  it('reports a revoked access token as inactive', async () => {
    const tokens = await signedInTokens(new FormBrowser(server.url), rpA);
    expect((await client.tokenIntrospection(rpA.config, tokens.access_token)).active).toBe(true);
    await client.tokenRevocation(rpA.config, tokens.access_token);
    expect((await client.tokenIntrospection(rpA.config, tokens.access_token)).active).toBe(false);
  });

  it('refuses a replayed authorization code with invalid_grant', async () => {
    const browser = new FormBrowser(server.url);
    const { start, page } = await signIn(browser, rpA, { username, password });
    await redeem(rpA, page.url, start);
    await expect(redeem(rpA, page.url, start)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('refuses a wrong client secret with 401 invalid_client', async () => {
    const response = await fetch(`${server.url}/token`, {
      method: 'POST',
      headers: {
        authorization: 'Basic ' + Buffer.from('servizio-a:not-the-secret').toString('base64'),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=authorization_code&code=whatever&redirect_uri=' + encodeURIComponent(server.services[0]!.redirectUris[0]!),
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: 'invalid_client' });
  });

  it('gives service clients a token with client_credentials', async () => {
    const batch = await relyingParty(server.url, server.services[3]!);
    const tokens = await client.clientCredentialsGrant(batch.config, {});
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    expect(tokens.expires_in).toBeGreaterThan(0);
  });
});

describe('authorization request refusals', () => {
  it('shows an error page and does not redirect for an unregistered redirect_uri', async () => {
    const start = await authorizationUrl(rpA, { redirect_uri: 'https://attacker.example/cb' });
    const response = await new FormBrowser(server.url).get(start.url.toString());
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    const body = await response.text();
    expect(body).toContain('lang="it"');
    expect(body).toContain('redirect_uri');
  });

  it('refuses a public client that sends no PKCE challenge', async () => {
    const publicRp = await relyingParty(server.url, server.services[2]!);
    const url = client.buildAuthorizationUrl(publicRp.config, {
      redirect_uri: publicRp.service.redirectUris[0]!,
      scope: 'openid',
      state: 'abc',
    });
    const response = await new FormBrowser(server.url).get(url.toString());
    const location = new URL(response.headers.get('location')!);
    expect(location.origin + location.pathname).toBe(publicRp.service.redirectUris[0]);
    expect(location.searchParams.get('error')).toBe('invalid_request');
    expect(location.searchParams.get('error_description')).toMatch(/PKCE/);
  });

  it('refuses the implicit flow', async () => {
    const start = await authorizationUrl(rpA, { response_type: 'id_token' });
    const response = await new FormBrowser(server.url).get(start.url.toString());
    const location = new URL(response.headers.get('location')!);
    // errors for an implicit request come back in the fragment, its default response mode
    const error = new URLSearchParams(location.hash.slice(1)).get('error') ?? location.searchParams.get('error');
    expect(error).toBe('unsupported_response_type');
  });

  it('answers prompt=none without a session with login_required', async () => {
    const start = await authorizationUrl(rpA, { prompt: 'none' });
    const response = await new FormBrowser(server.url).get(start.url.toString());
    const location = new URL(response.headers.get('location')!);
    expect(location.searchParams.get('error')).toBe('login_required');
    expect(location.searchParams.get('state')).toBe(start.state);
  });
});

describe('single sign-on and logout', () => {
  it('signs in to a second service without the password, then logs out of both', async () => {
    const browser = new FormBrowser(server.url);
    const tokensA = await signedInTokens(browser, rpA);

    const startB = await authorizationUrl(rpB);
    const pageB = await startAuthorization(browser, startB);
    expect(pageB.url).toContain('code='); // no login page on the way
    const tokensB = await redeem(rpB, pageB.url, startB);
    expect(tokensB.claims()?.sub).toBe(tokensA.claims()?.sub);

    logoutTokens.length = 0;
    const endSession = client.buildEndSessionUrl(rpA.config, {
      id_token_hint: tokensA.id_token!,
      post_logout_redirect_uri: rpA.service.postLogoutRedirectUris[0]!,
      state: 'bye',
    });
    const confirm = await browser.follow(await browser.get(endSession.toString()));
    expect(confirm.body).toContain('Vuoi uscire da tutti i servizi?');
    const form = formFields(confirm.body, /\/session\/end\/confirm$/);
    const done = await browser.follow(await browser.post(form.action, { ...form.fields, logout: 'yes' }));
    expect(done.url).toBe(`${rpA.service.postLogoutRedirectUris[0]}?state=bye`);

    // both services that took part in the session were told, with a valid logout token
    expect(logoutTokens.map((l) => l.path).sort()).toEqual(['/a', '/b']);
    const jwks = createRemoteJWKSet(new URL(`${server.url}/jwks`));
    for (const { path, token } of logoutTokens) {
      const { payload } = await jwtVerify(token, jwks, { issuer: server.url, audience: path === '/a' ? 'servizio-a' : 'servizio-b' });
      expect(payload.events).toHaveProperty(['http://schemas.openid.net/event/backchannel-logout']);
      expect(payload.sub).toBe(tokensA.claims()?.sub);
    }

    // the session is gone: the next authorization asks for the password again
    const again = await startAuthorization(browser, await authorizationUrl(rpB));
    expect(again.body).toContain('name="password"');
  });

  it('refuses a post_logout_redirect_uri that is not registered', async () => {
    const browser = new FormBrowser(server.url);
    const tokens = await signedInTokens(browser, rpA);
    const endSession = client.buildEndSessionUrl(rpA.config, {
      id_token_hint: tokens.id_token!,
      post_logout_redirect_uri: 'https://attacker.example/',
    });
    const response = await browser.get(endSession.toString());
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
  });
});
