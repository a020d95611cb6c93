import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadServiceDefinitions as load, serviceFromClient, settingsOfDefinition, toClientMetadata } from '../../src/services/catalogue.js';
import { projectRoot } from '../../src/config.js';

const dir = mkdtempSync(join(tmpdir(), 'clients-'));
const valid = {
  id: 'servizio',
  name: 'Servizio',
  clientSecret: 'x'.repeat(40),
  redirectUris: ['http://localhost:4000/callback'],
  firstParty: true,
  acceptedAccountTypes: ['standard'],
  scopes: ['openid'],
  grantTypes: ['authorization_code'],
};

const development = { production: false };
const production = { production: true };
const loadServiceDefinitions = (path: string) => load(path, development);

function fileWith(content: unknown): string {
  const path = join(dir, `c${Math.random()}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

describe('clients.json', () => {
  it('declares the five services with the metadata DOMAIN.md §9 lists', () => {
    const services = loadServiceDefinitions(join(projectRoot(), 'clients.json'));
    expect(services.map((s) => s.name)).toEqual(['Istanze OnLine', 'Pago in Rete', 'Portale Formazione', 'Posta Istruzione', 'SIDI']);
    const sidi = services.find((s) => s.id === 'sidi')!;
    expect(sidi.acceptedAccountTypes).toEqual(['mi']);
    // Istanze OnLine, and only it, needs enablement (DOMAIN.md §7)
    for (const s of services) expect(s).toMatchObject({ enablementRequired: s.id === 'istanze-online', requiredAcr: null });
    for (const s of services) {
      expect(s.backchannelLogoutUri).toMatch(/^http:\/\/localhost:\d+\/backchannel-logout$/);
      expect(s.postLogoutRedirectUris.length).toBeGreaterThan(0);
      expect(s.logo).toMatch(/^\/assets\/logos\//);
    }
  });

  it.each([
    [{ ...valid, id: 'Bad Id' }, 'service "Bad Id", field "id"'],
    [{ ...valid, redirectUris: ['not a url'] }, 'service "servizio", field "redirectUris.0"'],
    [{ ...valid, clientSecret: 'short' }, 'field "clientSecret": must be at least 32 characters'],
    [{ ...valid, acceptedAccountTypes: ['admin'] }, 'field "acceptedAccountTypes.0"'],
    [{ ...valid, scopes: ['profile'] }, 'field "scopes": must include openid'],
    [{ ...valid, requiredAcr: 'urn:example:loa:high' }, 'field "requiredAcr": must be null or one of urn:istruzione:iam:acr:password, urn:istruzione:iam:acr:otp'],
    [{ ...valid, id: 'sidi-gestione-utenze' }, 'field "id": reserved for the provider\'s own console'],
    [{ ...valid, redirectUris: ['http://rp.example/cb'] }, 'field "redirectUris.0": must use https'],
    [{ ...valid, redirectUris: ['https://user:pw@rp.example/cb'] }, 'field "redirectUris.0": must not contain a user name or password'],
    [{ ...valid, redirectUris: ['https://*.example/cb'] }, 'field "redirectUris.0": must not contain wildcards'],
    [{ ...valid, redirectUris: ['https://rp.example/*'] }, 'field "redirectUris.0": must not contain wildcards'],
    [{ ...valid, redirectUris: ['https://rp.example/cb#x'] }, 'field "redirectUris.0": must not contain a fragment'],
    [{ ...valid, postLogoutRedirectUris: ['http://10.0.0.1/'] }, 'field "postLogoutRedirectUris.0": must use https'],
    [{ ...valid, backchannelLogoutUri: 'ftp://rp.example/bc' }, 'field "backchannelLogoutUri": must use https'],
    [{ ...valid, firstParty: 'yes' }, 'field "firstParty"'],
    [{ ...valid, surprise: 1 }, 'service "servizio", field "(entry)"'],
    [{ ...valid, redirectUris: [] }, 'field "redirectUris": at least one is required'],
    [{ ...valid, clientSecret: undefined, grantTypes: ['client_credentials'] }, 'field "clientSecret": is required with client_credentials'],
  ])('names the service and the field of a bad entry (%#)', (entry, message) => {
    const path = fileWith({ services: [entry] });
    expect(() => loadServiceDefinitions(path)).toThrow(message);
  });

  it('accepts a required acr the provider can assert', () => {
    expect(loadServiceDefinitions(fileWith({ services: [{ ...valid, requiredAcr: 'urn:istruzione:iam:acr:otp' }] }))[0]!.requiredAcr).toBe('urn:istruzione:iam:acr:otp');
  });

  it('accepts https anywhere and plain http on loopback while developing', () => {
    const uris = ['https://rp.example/cb', 'http://localhost:4000/cb', 'http://127.0.0.1:4000/cb', 'http://[::1]:4000/cb'];
    expect(loadServiceDefinitions(fileWith({ services: [{ ...valid, redirectUris: uris }] }))[0]!.redirectUris).toEqual(uris);
  });

  it('refuses loopback http and the committed demo secrets in production', () => {
    expect(() => load(fileWith({ services: [valid] }), production)).toThrow('field "redirectUris.0": must use https in production');
    const https = { ...valid, redirectUris: ['https://rp.example/cb'] };
    expect(load(fileWith({ services: [https] }), production)).toHaveLength(1);
    expect(() => load(join(projectRoot(), 'clients.json'), production)).toThrow(/field "clientSecret": is a demo secret|must use https in production/);
    const demoSecret = { ...https, clientSecret: 'demo-servizio-secret-change-me-in-production' };
    expect(() => load(fileWith({ services: [demoSecret] }), production)).toThrow('field "clientSecret": is a demo secret committed with the project');
  });

  it('refuses two services with the same id', () => {
    expect(() => loadServiceDefinitions(fileWith({ services: [valid, valid] }))).toThrow('field "id": used twice');
  });

  it('refuses a file that is not JSON or has no services', () => {
    expect(() => loadServiceDefinitions(fileWith('{ nope'))).toThrow('cannot be read as JSON');
    expect(() => loadServiceDefinitions(fileWith({ services: [] }))).toThrow('with at least one service');
    expect(() => loadServiceDefinitions(join(dir, 'missing.json'))).toThrow('cannot be read');
  });

  it('maps a service to client metadata and back', () => {
    const [service] = loadServiceDefinitions(fileWith({ services: [{ ...valid, logo: '/assets/logos/x.svg', backchannelLogoutUri: 'http://localhost:4000/bc' }] }));
    const metadata = toClientMetadata(service!.id, settingsOfDefinition(service!).settings, 'https://iam.example');
    expect(metadata).toMatchObject({
      client_id: 'servizio',
      token_endpoint_auth_method: 'client_secret_basic',
      response_types: ['code'],
      logo_uri: 'https://iam.example/assets/logos/x.svg',
      backchannel_logout_session_required: true,
      first_party: true,
      accepted_account_types: ['standard'],
    });
    // as oidc-provider's Client holds it: the standard fields as camelCase properties, ours under their names
    const camel = (key: string) => (key.startsWith('client_') || key.endsWith('_uris') ? key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()) : key);
    const back = serviceFromClient(Object.fromEntries(Object.entries(metadata).map(([k, v]) => [camel(k), v])));
    expect(back).toMatchObject({ id: 'servizio', firstParty: true, enablementRequired: false, acceptedAccountTypes: ['standard'], requiredAcr: null });
  });

  it('makes a service without a secret a public client', () => {
    const [service] = loadServiceDefinitions(fileWith({ services: [{ ...valid, clientSecret: undefined }] }));
    expect(toClientMetadata(service!.id, settingsOfDefinition(service!).settings, 'https://iam.example').token_endpoint_auth_method).toBe('none');
  });
});
