import { settingsFromRegistration } from '../../src/services/registration.js';
import type { ServiceSettings } from '../../src/services/catalogue.js';

const ISSUER = 'https://iam.example';
const rules = { production: true };
const request = { client_name: 'Portale tributi', redirect_uris: ['https://comune.example/cb'] };

describe('a registration request in the catalogue’s terms', () => {
  it('gives a new service the partner defaults: consent, no enablement, both account types, only what it asked', () => {
    const outcome = settingsFromRegistration(request, null, rules, ISSUER);
    expect(outcome).toEqual({
      ok: true,
      settings: expect.objectContaining({
        name: 'Portale tributi',
        redirectUris: ['https://comune.example/cb'],
        firstParty: false,
        enablementRequired: false,
        acceptedAccountTypes: ['standard', 'mi'],
        requiredAcr: null,
        scopes: ['openid'],
        grantTypes: ['authorization_code'],
        tokenEndpointAuthMethod: 'client_secret_basic',
      }),
    });
  });

  it('ignores what the administrator decides, and keeps it on an update', () => {
    const base = settingsFromRegistration(request, null, rules, ISSUER);
    if (!base.ok) throw new Error('refused');
    const administered: ServiceSettings = { ...base.settings, firstParty: true, enablementRequired: true, acceptedAccountTypes: ['mi'], requiredAcr: 'urn:istruzione:iam:acr:otp', description: 'Tributi' };
    const update = settingsFromRegistration(
      { ...request, client_name: 'Tributi online', first_party: false, enablement_required: false, accepted_account_types: ['standard'], token_lifetimes: { accessToken: 3600 } },
      administered,
      rules,
      ISSUER,
    );
    expect(update).toEqual({ ok: true, settings: { ...administered, name: 'Tributi online' } });
  });

  it.each([
    [{ redirect_uris: ['http://comune.example/cb'] }, 'redirect_uris.0'],
    [{ redirect_uris: ['http://localhost/cb'] }, 'redirect_uris.0'],
    [{ post_logout_redirect_uris: ['https://comune.example/#fine'] }, 'post_logout_redirect_uris.0'],
    [{ client_name: undefined }, 'client_name'],
    [{ scope: 'openid admin' }, 'scope'],
    [{ grant_types: ['client_credentials'] }, 'grant_types'],
    [{ grant_types: ['refresh_token'] }, 'grant_types'],
    [{ token_endpoint_auth_method: 'private_key_jwt' }, 'token_endpoint_auth_method'],
    [{ logo_uri: 'http://comune.example/logo.png' }, 'logo_uri'],
  ])('refuses %j naming %s', (change, field) => {
    const outcome = settingsFromRegistration({ ...request, ...change }, null, rules, ISSUER);
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.problems.map((p) => p.field)).toContain(field);
  });

  it('reads back a logo uploaded in the console as the provider’s own path', () => {
    const outcome = settingsFromRegistration({ ...request, logo_uri: `${ISSUER}/servizi/partner-1/logo?v=3` }, null, rules, ISSUER);
    expect(outcome.ok && outcome.settings.logo).toBe('/servizi/partner-1/logo?v=3');
  });
});
