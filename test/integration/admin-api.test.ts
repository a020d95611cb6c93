import { randomInt } from 'node:crypto';
import Ajv2020 from 'ajv/dist/2020.js';
import { Validator } from '@seriousme/openapi-schema-validator';
import { adminCommand } from '../../src/admin/command.js';
import { FormBrowser } from '../support/browser.js';
import { client, redeem, relyingParty, signIn, tokenRequest, type RelyingParty } from '../support/oidc.js';
import { adminAtConsole, browserFor, testAccount } from '../support/admin.js';
import { startTestServer, testService, type TestServer } from '../support/server.js';

let server: TestServer;
let adminToken: string;
const API = () => `${server.url}/admin/api`;
const newId = (prefix: string) => `${prefix}-${randomInt(1e9)}`;

/** An admin client registered on the command line, and a token for it from client_credentials. */
async function machineClient(scopes: string) {
  const id = newId('macchina');
  const added = await adminCommand(['services', 'add', id, '--name', `Client ${id}`, '--scopes', scopes, '--grant-types', 'client_credentials', '--json'], server.deps.commands);
  expect(added.code).toBe(0);
  const { clientSecret } = JSON.parse(added.stdout) as { clientSecret: string };
  const rp = await relyingParty(server.url, testService({ id, clientSecret, redirectUris: [], grantTypes: ['client_credentials'] }));
  return { id, rp, clientSecret };
}

async function tokenFor(rp: RelyingParty, scope: string) {
  const answer = await tokenRequest(rp, { grant_type: 'client_credentials', scope });
  expect(answer.status).toBe(200);
  return answer.body.access_token!;
}

async function api(method: string, path: string, options: { token?: string | null; body?: unknown; type?: string; browser?: FormBrowser } = {}) {
  const headers: Record<string, string> = {};
  const token = options.token === undefined ? adminToken : options.token;
  if (token) headers.authorization = `Bearer ${token}`;
  if (options.body !== undefined) headers['content-type'] = options.type ?? 'application/json';
  const init = { method, headers, body: options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body) };
  const response = options.browser ? await options.browser.request(`${API()}${path}`, init) : await fetch(`${API()}${path}`, init);
  const text = await response.text();
  return { status: response.status, type: response.headers.get('content-type') ?? '', headers: response.headers, body: text ? (JSON.parse(text) as Record<string, any>) : {} };
}

const newService = (id: string) => ({
  id,
  settings: {
    name: `Servizio ${id}`,
    redirectUris: [`http://127.0.0.1:9/${id}/callback`],
    firstParty: true,
    acceptedAccountTypes: ['standard', 'mi'],
    scopes: ['openid', 'profile', 'email'],
    grantTypes: ['authorization_code'],
  },
});

beforeAll(async () => {
  server = await startTestServer({ services: [testService({ id: 'servizio-esistente' })], env: { TRUST_PROXY: '1' } });
  adminToken = await tokenFor((await machineClient('openid,admin')).rp, 'admin');
});
afterAll(() => server.close());

describe('the admin JSON API', () => {
  it('registers a service with an admin client’s token; the service signs a person in at once through openid-client', async () => {
    const id = newId('da-api');
    const created = await api('POST', '/services', { body: newService(id) });
    expect(created.status).toBe(201);
    expect(created.body.service).toMatchObject({ id, origin: 'api', enabled: true, confidential: true });
    const secret = created.body.clientSecret as string;
    expect(secret).toMatch(/^[\w-]{43}$/);
    expect((await api('GET', `/services/${id}`)).body).not.toHaveProperty('clientSecret');

    const rp = await relyingParty(server.url, testService({ id, clientSecret: secret, redirectUris: [`http://127.0.0.1:9/${id}/callback`] }));
    const person = await testAccount(server);
    const { start, page } = await signIn(new FormBrowser(server.url), rp, person);
    expect((await redeem(rp, page.url, start)).claims()!.sub).toBeTruthy();

    const audit = await api('GET', '/audit?action=service.registered');
    const entry = (audit.body.entries as Array<{ clientId: string; actorKind: string; details: Record<string, unknown> }>).find((e) => e.clientId === id);
    expect(entry).toMatchObject({ actorKind: 'service', details: { via: 'api', apiClient: expect.stringMatching(/^macchina-/) } });
  });

  it('rotates, disables, enables and removes a service; the old secret holds for the grace period', async () => {
    const id = newId('ciclo');
    const secret = (await api('POST', '/services', { body: { ...newService(id), settings: { ...newService(id).settings, grantTypes: ['client_credentials'], redirectUris: [] } } })).body.clientSecret as string;
    const rotated = await api('POST', `/services/${id}/secret`, { body: { graceSeconds: 3600 } });
    expect(rotated.status).toBe(200);
    expect(rotated.body.service.previousSecretValidUntil).toBeTruthy();
    const rp = await relyingParty(server.url, testService({ id, clientSecret: secret, redirectUris: [], grantTypes: ['client_credentials'] }));
    expect((await tokenRequest(rp, { grant_type: 'client_credentials' })).status).toBe(200);
    expect((await tokenRequest({ ...rp, service: { ...rp.service, clientSecret: rotated.body.clientSecret } }, { grant_type: 'client_credentials' })).status).toBe(200);

    expect((await api('POST', `/services/${id}/disable`)).body).toMatchObject({ id, enabled: false });
    expect((await tokenRequest(rp, { grant_type: 'client_credentials' })).status).toBe(401);
    expect((await api('POST', `/services/${id}/enable`)).body).toMatchObject({ id, enabled: true });
    expect((await api('DELETE', `/services/${id}`)).status).toBe(204);
    expect((await api('GET', `/services/${id}`)).status).toBe(404);
  });

  it('answers bad input with RFC 9457 problems, field by field, and changes nothing', async () => {
    const before = (await api('GET', '/services')).body.length as number;
    const invalid = await api('POST', '/services', {
      body: { id: 'X', settings: { ...newService('x').settings, redirectUris: ['https://rp.example/cb#frammento', 'http://rp.example/cb'], scopes: ['openid', 'admin'] } },
    });
    expect(invalid.status).toBe(422);
    expect(invalid.type).toContain('application/problem+json');
    expect(invalid.body).toMatchObject({ type: 'urn:iam-istruzione:problem:invalid-request', status: 422, title: expect.stringContaining('nulla è cambiato') });
    const fields = (invalid.body.errors as Array<{ field: string }>).map((e) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['id', 'settings.redirectUris.0', 'settings.redirectUris.1', 'settings.scopes']));

    expect(await api('POST', '/services', { body: '{"id": ' })).toMatchObject({ status: 400, body: { type: 'urn:iam-istruzione:problem:malformed-body' } });
    expect((await api('POST', '/services', { body: 'id=x', type: 'application/x-www-form-urlencoded' })).status).toBe(415);
    expect((await api('POST', '/services', { body: newService('servizio-esistente') })).status).toBe(409);
    expect((await api('PUT', '/services/non-esiste', { body: newService('x').settings })).status).toBe(404);
    expect((await api('GET', '/audit?dal=ieri')).status).toBe(422);
    expect(await api('GET', '/non-esiste')).toMatchObject({ status: 404, body: { status: 404 } });
    expect((await api('GET', '/services')).body.length).toBe(before);
  });

  it('refuses whoever is not an administrator: no token, a bad one, one without the admin scope, a person’s token, a session without the role', async () => {
    const none = await api('GET', '/services', { token: null });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toContain('Bearer');
    expect(none.type).toContain('application/problem+json');
    expect((await api('GET', '/services', { token: 'inventato' })).status).toBe(401);

    const ordinary = await machineClient('openid');
    const withoutScope = await tokenFor(ordinary.rp, '');
    const refused = await api('GET', '/services', { token: withoutScope });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('www-authenticate')).toContain('insufficient_scope');
    // a machine client without the admin scope cannot ask for it at /token
    expect((await tokenRequest(ordinary.rp, { grant_type: 'client_credentials', scope: 'admin' })).body.error).toBe('invalid_scope');

    // a person's access token is not a client_credentials token
    const rp = await relyingParty(server.url, testService({ id: 'servizio-esistente' }));
    const person = await testAccount(server);
    const { start, page } = await signIn(new FormBrowser(server.url), rp, person);
    const tokens = await redeem(rp, page.url, start);
    expect((await api('GET', '/services', { token: tokens.access_token })).status).toBe(401);

    // a signed-in person without the role, through the console's session
    const b = browserFor(server);
    await signIn(b, rp, person);
    expect((await api('GET', '/services', { token: null, browser: b })).status).toBe(401);

    // an admin client whose admin scope an administrator took away is refused at once
    const demoted = await machineClient('openid,admin');
    const demotedToken = await tokenFor(demoted.rp, 'admin');
    expect((await api('GET', '/keys', { token: demotedToken })).status).toBe(200);
    const current = (await api('GET', `/services/${demoted.id}`)).body.settings;
    expect((await api('PUT', `/services/${demoted.id}`, { body: { ...current, scopes: ['openid'] } })).status).toBe(200);
    expect((await api('GET', '/keys', { token: demotedToken })).status).toBe(403);
    // none of these changed anything
    expect((await api('GET', '/services')).status).toBe(200);
  });

  it('serves the administrator’s session with two factors, changes only as JSON', async () => {
    const { b } = await adminAtConsole(server);
    const listed = await api('GET', '/services', { token: null, browser: b });
    expect(listed.status).toBe(200);
    const id = newId('sessione');
    // a cross-site form could send this: refused
    const forged = await b.request(`${API()}/services`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify(newService(id)) });
    expect(forged.status).toBe(403);
    const created = await api('POST', '/services', { token: null, browser: b, body: newService(id) });
    expect(created.status).toBe(201);
    const audit = await server.db.selectFrom('audit_log').select(['actor_kind', 'actor_id', 'details']).where('action', '=', 'service.registered').where('client_id', '=', id).executeTakeFirstOrThrow();
    expect(audit).toMatchObject({ actor_kind: 'admin', details: { via: 'api' } });
    expect(audit.actor_id).toBeTruthy();

    // the role: listed to both; granted and revoked only by a person's session
    const person = await testAccount(server);
    expect((await api('POST', '/administrators', { body: { username: person.username } })).status).toBe(403);
    expect((await api('POST', '/administrators', { token: null, browser: b, body: { username: person.username } })).status).toBe(201);
    expect(((await api('GET', '/administrators')).body as Array<{ username: string }>).map((a) => a.username)).toContain(person.username);
    expect((await api('DELETE', `/administrators/${person.username}`)).status).toBe(403);
    expect((await api('DELETE', `/administrators/${person.username}`, { token: null, browser: b, body: {} })).status).toBe(204);
    expect((await api('DELETE', `/administrators/${person.username}`, { token: null, browser: b, body: {} })).status).toBe(404);
    expect((await api('POST', '/administrators', { token: null, browser: b, body: { username: 'nessuno.mai' } })).status).toBe(404);
  });

  it('issues and revokes initial access tokens, lists keys, rotates them, and imports staff', async () => {
    const issued = await api('POST', '/initial-access-tokens', { body: { label: 'Partner via API', maxUses: 2 } });
    expect(issued.status).toBe(201);
    const registered = await fetch(`${server.url}/reg`, {
      method: 'POST',
      headers: { authorization: `Bearer ${issued.body.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'Partner', redirect_uris: ['https://partner.example/cb'] }),
    });
    expect(registered.status).toBe(201);
    const tokenId = issued.body.initialAccessToken.id as string;
    expect(((await api('GET', '/initial-access-tokens')).body as Array<{ id: string; uses: number }>).find((t) => t.id === tokenId)?.uses).toBe(1);
    expect((await api('DELETE', `/initial-access-tokens/${tokenId}`)).status).toBe(204);
    expect((await api('DELETE', '/initial-access-tokens/iat-nessuno')).status).toBe(404);
    expect((await api('POST', '/initial-access-tokens', { body: { label: '', maxUses: 0 } })).status).toBe(422);

    const keys = await api('GET', '/keys');
    const active = (keys.body as Array<{ kid: string; state: string; use: string }>).find((k) => k.state === 'active' && k.use === 'signing')!;
    expect((await api('POST', `/keys/${active.kid}/retire`)).status).toBe(409);
    expect((await api('POST', '/keys/rotate', { body: { overlapSeconds: 10 } })).status).toBe(422);
    const rotation = await api('POST', '/keys/rotate', { body: { overlapSeconds: 3600 } });
    expect(rotation.status).toBe(200);
    expect(rotation.body.retiring).toContain(active.kid);

    expect((await api('GET', '/enablements?fiscalCode=RSSMRA80A01H501X')).status).toBe(422);
    const person = await testAccount(server);
    expect(await api('GET', `/enablements?fiscalCode=${person.fiscalCode.toLowerCase()}`)).toMatchObject({ status: 200, body: [] });
    expect((await api('POST', '/enablements/IOL-2026-999999/revoke')).status).toBe(404);

    const refusedFile = await api('POST', '/staff/import?dryRun=true', { body: 'non,un,file\n1,2,3\n', type: 'text/csv' });
    expect(refusedFile.status).toBe(422);
    expect(refusedFile.body).toMatchObject({ type: 'urn:iam-istruzione:problem:invalid-request', report: { applied: false } });
  });
});

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document listing exactly the operations the API serves', async () => {
    const response = await fetch(`${API()}/openapi.json`);
    expect(response.status).toBe(200);
    const document = (await response.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(document.openapi).toBe('3.1.0');
    const validation = await new Validator().validate(document);
    expect(validation.errors ?? []).toEqual([]);
    expect(validation.valid).toBe(true);

    const documented = Object.entries(document.paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`)).sort();
    expect(documented).toEqual(
      [
        'GET /services', 'POST /services', 'GET /services/{id}', 'PUT /services/{id}', 'DELETE /services/{id}',
        'POST /services/{id}/secret', 'POST /services/{id}/disable', 'POST /services/{id}/enable',
        'GET /initial-access-tokens', 'POST /initial-access-tokens', 'DELETE /initial-access-tokens/{id}',
        'GET /keys', 'POST /keys/rotate', 'POST /keys/{kid}/retire', 'GET /audit', 'POST /staff/import',
        'GET /administrators', 'POST /administrators', 'DELETE /administrators/{username}',
        'GET /enablements', 'POST /enablements/{number}/revoke',
      ].sort(),
    );
    // every documented operation is served (an unknown one would answer the catch-all's 404 problem without a www-authenticate)
    for (const entry of documented) {
      const [method, path] = entry.split(' ');
      const answer = await fetch(`${API()}${path!.replace(/\{\w+\}/g, 'x')}`, { method });
      expect([entry, answer.status, answer.headers.get('www-authenticate')]).toEqual([entry, 401, 'Bearer realm="admin"']);
    }
  });

  it('accepts what its request schemas accept and refuses what they refuse', async () => {
    const document = (await (await fetch(`${API()}/openapi.json`)).json()) as { components: { schemas: Record<string, object> } };
    const ajv = new Ajv2020.default({ strict: false });
    for (const [name, schema] of Object.entries(document.components.schemas)) ajv.addSchema(schema, `#/components/schemas/${name}`);
    const validNewService = ajv.compile({ $ref: '#/components/schemas/NewService' });

    const accepted = newService(newId('schema'));
    expect(validNewService(accepted)).toBe(true);
    expect((await api('POST', '/services', { body: accepted })).status).toBe(201);

    const refusals: unknown[] = [
      { ...accepted, id: newId('schema'), extra: true },
      { id: newId('schema'), settings: { ...accepted.settings, firstParty: 'si' } },
      { id: newId('schema'), settings: { ...accepted.settings, grantTypes: ['password'] } },
      { id: newId('schema'), settings: { ...accepted.settings, tokenLifetimes: { accessToken: 'dieci' } } },
      { id: newId('schema') },
    ];
    for (const body of refusals) {
      expect(validNewService(body)).toBe(false);
      expect((await api('POST', '/services', { body })).status).toBe(422);
    }
  });
});
