import { FormBrowser, formFields } from '../support/browser.js';
import { client, redeem, relyingParty, signIn, type RelyingParty } from '../support/oidc.js';
import { startTestServer, testPerson, testService, type TestServer } from '../support/server.js';
import { FISCAL_NUMBER_CLAIM } from '../../src/accounts/claims.js';

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

describe('the claims parameter', () => {
  let narrow: TestServer;
  let firstParty: RelyingParty;
  let partner: RelyingParty;
  let narrowUsername: string;
  const everything = (claims: string[]) =>
    JSON.stringify({ id_token: Object.fromEntries(claims.map((c) => [c, null])), userinfo: Object.fromEntries(claims.map((c) => [c, { essential: true }])) });
  const beyondRegistration = ['phone_number', 'phone_number_verified', 'address', FISCAL_NUMBER_CLAIM, 'email'];

  beforeAll(async () => {
    narrow = await startTestServer({
      services: [
        testService({ id: 'solo-profilo', scopes: ['openid', 'profile', 'email'] }),
        testService({ id: 'partner-profilo', firstParty: false, scopes: ['openid', 'profile', 'email'] }),
      ],
    });
    firstParty = await relyingParty(narrow.url, narrow.services[0]!);
    partner = await relyingParty(narrow.url, narrow.services[1]!);
    ({ username: narrowUsername } = await narrow.deps.provisioning.provision(testPerson({ mobilePhone: '+393401112299' })));
  });
  afterAll(() => narrow.close());

  it('releases nothing a first-party service is not registered for, and records the attempt', async () => {
    const { start, page } = await signIn(new FormBrowser(narrow.url), firstParty, { username: narrowUsername, password }, {
      scope: 'openid',
      claims: everything(beyondRegistration),
    });
    const tokens = await redeem(firstParty, page.url, start);
    const idToken = tokens.claims()!;
    const userinfo = await client.fetchUserInfo(firstParty.config, tokens.access_token, idToken.sub);
    for (const released of [idToken, userinfo]) {
      for (const claim of ['phone_number', 'phone_number_verified', 'address', FISCAL_NUMBER_CLAIM]) expect(released).not.toHaveProperty([claim]);
      // email is within its registration: asked by name, it is released
      expect(released).toHaveProperty('email');
    }
    const audit = await narrow.db.selectFrom('audit_log').select(['details', 'client_id']).where('action', '=', 'authorization.claims_dropped').execute();
    expect(audit.some((a) => a.client_id === 'solo-profilo' && (a.details.claims as string[]).includes('phone_number'))).toBe(true);
  });

  it("lists on a partner's consent page, in Italian, every claim it will receive, and nothing more", async () => {
    const browser = new FormBrowser(narrow.url);
    const { start, page } = await signIn(browser, partner, { username: narrowUsername, password }, {
      scope: 'openid',
      claims: everything([...beyondRegistration, 'given_name']),
    });
    expect(page.body).toContain('Dati anagrafici: nome</li>');
    expect(page.body).toContain('E-mail: indirizzo e-mail di riferimento</li>');
    expect(page.body).not.toContain('cellulare');
    expect(page.body).not.toContain('codice fiscale');
    const form = formFields(page.body, /\/consent$/);
    const done = await browser.follow(await browser.post(form.action, { ...form.fields, decision: 'accept' }));
    const tokens = await redeem(partner, done.url, start);
    const userinfo = await client.fetchUserInfo(partner.config, tokens.access_token, tokens.claims()!.sub);
    expect(Object.keys(userinfo).sort()).toEqual(['email', 'given_name', 'sub']);
  });
});
