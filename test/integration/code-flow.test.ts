import { FormBrowser } from '../support/browser.js';
import { client, redeem, relyingParty, signIn, type RelyingParty } from '../support/oidc.js';
import { startTestServer, testPerson, testService, type TestServer } from '../support/server.js';
import { FISCAL_NUMBER_CLAIM } from '../../src/provider/account.js';

let server: TestServer;
let rp: RelyingParty;
let username: string;
const password = 'Corretta-Password-1!';
const person = testPerson({ mobilePhone: '+393401112233' });

beforeAll(async () => {
  server = await startTestServer({
    services: [testService({ id: 'servizio-a', scopes: ['openid', 'profile', 'email', 'phone', 'fiscal_number', 'offline_access'] })],
  });
  rp = await relyingParty(server.url, server.services[0]!);
  ({ username } = await server.deps.provisioning.provision(person));
});
afterAll(() => server.close());

describe('authorization code flow with PKCE', () => {
  it('signs in through the login page and returns a valid ID token and userinfo', async () => {
    const browser = new FormBrowser(server.url);
    const { start, page } = await signIn(browser, rp, { username, password }, { scope: 'openid profile email phone' });
    expect(page.url).toMatch(/^http:\/\/127\.0\.0\.1:9\/servizio-a\/callback\?code=/);

    const tokens = await redeem(rp, page.url, start);
    const claims = tokens.claims()!;
    expect(claims.iss).toBe(server.url);
    expect(claims.aud).toBe('servizio-a');
    expect(claims.acr).toBe('urn:istruzione:iam:acr:password');
    expect(claims.amr).toEqual(['pwd']);
    expect(claims.sub).toMatch(/^[0-9a-f-]{36}$/);
    expect(claims.sub).not.toContain(username);

    const userinfo = await client.fetchUserInfo(rp.config, tokens.access_token, claims.sub);
    expect(userinfo).toMatchObject({
      sub: claims.sub,
      given_name: person.givenName,
      family_name: person.familyName,
      preferred_username: username,
      email: person.personalEmail,
      email_verified: false,
      phone_number: '+393401112233',
      account_type: 'standard',
    });
    expect(userinfo[FISCAL_NUMBER_CLAIM]).toBeUndefined();
  });

  it('names the service on the login page', async () => {
    const browser = new FormBrowser(server.url);
    const { page } = await signIn(browser, rp, { username: '', password: '' });
    expect(page.body).toContain('Accedi a Servizio servizio-a');
  });

  it('releases the fiscal number only when the service asks for it', async () => {
    const browser = new FormBrowser(server.url);
    const { start, page } = await signIn(browser, rp, { username, password }, { scope: 'openid fiscal_number' });
    const tokens = await redeem(rp, page.url, start);
    const userinfo = await client.fetchUserInfo(rp.config, tokens.access_token, tokens.claims()!.sub);
    expect(userinfo[FISCAL_NUMBER_CLAIM]).toBe(`TINIT-${person.fiscalCode}`);
  });
});
