import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadServiceDefinitions, serviceFromClient, toClientMetadata } from '../../src/provider/clients.js';
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
    expect(services.find((s) => s.id === 'istanze-online')!.enablementRequired).toBe(true);
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
    [{ ...valid, requiredAcr: 'urn:unknown' }, 'field "requiredAcr": must be one of'],
    [{ ...valid, firstParty: 'yes' }, 'field "firstParty"'],
    [{ ...valid, surprise: 1 }, 'service "servizio", field "(entry)"'],
    [{ ...valid, redirectUris: [] }, 'field "redirectUris": at least one is required'],
    [{ ...valid, clientSecret: undefined, grantTypes: ['client_credentials'] }, 'field "clientSecret": is required with client_credentials'],
  ])('names the service and the field of a bad entry (%#)', (entry, message) => {
    const path = fileWith({ services: [entry] });
    expect(() => loadServiceDefinitions(path)).toThrow(message);
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
    const metadata = toClientMetadata(service!, 'https://iam.example');
    expect(metadata).toMatchObject({
      client_id: 'servizio',
      token_endpoint_auth_method: 'client_secret_basic',
      response_types: ['code'],
      logo_uri: 'https://iam.example/assets/logos/x.svg',
      backchannel_logout_session_required: true,
      first_party: true,
      accepted_account_types: ['standard'],
    });
    const back = serviceFromClient({ clientId: 'servizio', clientName: 'Servizio', metadata: () => metadata });
    expect(back).toMatchObject({ id: 'servizio', firstParty: true, enablementRequired: false, acceptedAccountTypes: ['standard'], requiredAcr: null });
  });

  it('makes a service without a secret a public client', () => {
    const [service] = loadServiceDefinitions(fileWith({ services: [{ ...valid, clientSecret: undefined }] }));
    expect(toClientMetadata(service!, 'https://iam.example').token_endpoint_auth_method).toBe('none');
  });
});
