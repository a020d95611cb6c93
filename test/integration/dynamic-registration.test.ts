import { adminCommand } from '../../src/admin/command.js';
import { secretDigest } from '../../src/services/secrets.js';
import { FormBrowser, formFields } from '../support/browser.js';
import { client, redeem, signIn, type RelyingParty } from '../support/oidc.js';
import { sql } from 'kysely';
import { adminAtConsole, testAccount } from '../support/admin.js';
import { startTestServer, testService, type TestServer } from '../support/server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ services: [testService({ id: 'servizio-esistente' })] });
});
afterAll(() => server.close());

/** An initial access token issued on the command line, as an operator would. */
async function issueToken(options: string[] = []) {
  const result = await adminCommand(['iat', 'issue', '--label', 'Comune di Prova', ...options, '--json'], server.deps.commands);
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as { id: string; token: string; maxUses: number };
}

const metadata = (name: string, overrides: Record<string, unknown> = {}) => ({
  client_name: name,
  redirect_uris: [`http://127.0.0.1:9/${encodeURIComponent(name)}/callback`],
  post_logout_redirect_uris: [`http://127.0.0.1:9/${encodeURIComponent(name)}/`],
  grant_types: ['authorization_code', 'refresh_token'],
  scope: 'openid profile email',
  ...overrides,
});

async function register(token: string | null, body: unknown) {
  const response = await fetch(`${server.url}/reg`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function manage(uri: string, token: string, method: 'GET' | 'PUT' | 'DELETE', body?: unknown) {
  const response = await fetch(uri, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: response.status, body: response.status === 204 ? {} : ((await response.json()) as Record<string, unknown>) };
}

const uses = async (id: string) =>
  (await server.db.selectFrom('initial_access_tokens').select('uses').where('id', '=', id).executeTakeFirstOrThrow()).uses;

describe('dynamic registration (RFC 7591) with initial access tokens', () => {
  it('registers a partner service through openid-client that then signs people in, with consent, as a partner', async () => {
    const { id: tokenId, token } = await issueToken();
    const name = `Partner ${Date.now()}`;
    const redirectUri = `http://127.0.0.1:9/partner/callback`;
    const config = await client.dynamicClientRegistration(
      new URL(server.url),
      // a partner may not make itself first-party, nor skip the administrator's rules
      { ...metadata(name), redirect_uris: [redirectUri], first_party: true, enablement_required: false, required_acr: null } as Partial<client.ClientMetadata>,
      undefined,
      { initialAccessToken: token, execute: [client.allowInsecureRequests] },
    );
    const registered = config.clientMetadata();
    expect(registered.client_id).toMatch(/^partner-[0-9a-f]{12}$/);
    expect(registered.client_secret).toMatch(/^[\w-]{43}$/);
    expect(registered.first_party).toBe(false);
    expect(registered.registration_access_token).toBeTruthy();
    expect(registered.previous_secret_digest).toBeUndefined();

    const row = await server.db.selectFrom('services').selectAll().where('id', '=', registered.client_id).executeTakeFirstOrThrow();
    expect(row.origin).toBe('registration');
    expect(row.initial_access_token_id).toBe(tokenId);
    expect(row.secret_digest).toMatch(/^sha256:/);
    expect(JSON.stringify(row)).not.toContain(registered.client_secret as string);
    expect(await uses(tokenId)).toBe(1);

    // the new service signs a person in at once: a partner's consent page first
    const rp: RelyingParty = {
      service: testService({ id: registered.client_id, clientSecret: registered.client_secret as string, redirectUris: [redirectUri], scopes: ['openid', 'profile', 'email'] }),
      config,
    };
    const person = await testAccount(server);
    const browser = new FormBrowser(server.url);
    const { start, page } = await signIn(browser, rp, person);
    expect(page.body).toContain(name);
    const form = formFields(page.body, /\/consent$/);
    const done = await browser.follow(await browser.post(form.action, { ...form.fields, decision: 'accept' }));
    const tokens = await redeem(rp, done.url, start);
    expect(tokens.claims()!.sub).toBeTruthy();

    const audit = await server.db.selectFrom('audit_log').select(['actor_kind', 'actor_id', 'details']).where('action', '=', 'service.registered').where('client_id', '=', registered.client_id).executeTakeFirstOrThrow();
    expect(audit).toMatchObject({ actor_kind: 'service', actor_id: null, details: { via: 'registration', initialAccessToken: tokenId } });
  });

  it('refuses a registration without a token, with an unknown, spent, revoked or expired one: nothing registered', async () => {
    const before = (await server.deps.serviceAdministration.repository.list()).length;
    expect(await register(null, metadata('Senza token'))).toMatchObject({ status: 401, body: { error: 'invalid_token' } });
    expect(await register('non-un-token', metadata('Token inventato'))).toMatchObject({ status: 401, body: { error: 'invalid_token' } });

    const single = await issueToken();
    expect((await register(single.token, metadata('Primo'))).status).toBe(201);
    expect(await register(single.token, metadata('Secondo'))).toMatchObject({ status: 401, body: { error: 'invalid_token' } });

    const revoked = await issueToken(['--uses', '5']);
    const revocation = await adminCommand(['iat', 'revoke', revoked.id], server.deps.commands);
    expect(revocation).toMatchObject({ code: 0 });
    expect(await register(revoked.token, metadata('Revocato'))).toMatchObject({ status: 401, body: { error: 'invalid_token' } });

    const expired = await issueToken();
    await server.db.updateTable('initial_access_tokens').set({ expires_at: new Date(Date.now() - 1000) }).where('id', '=', expired.id).execute();
    expect(await register(expired.token, metadata('Scaduto'))).toMatchObject({ status: 401, body: { error: 'invalid_token' } });

    expect((await server.deps.serviceAdministration.repository.list()).length).toBe(before + 1);
    const listed = JSON.parse((await adminCommand(['iat', 'list', '--json'], server.deps.commands)).stdout) as Array<{ id: string; state: string }>;
    expect(listed.find((t) => t.id === single.id)?.state).toBe('spent');
    expect(listed.find((t) => t.id === revoked.id)?.state).toBe('revoked');
    expect(listed.find((t) => t.id === expired.id)?.state).toBe('expired');
    expect(JSON.stringify(listed)).not.toContain(single.token);
  });

  it('lets a burst of registrations with a two-use token register exactly two services', async () => {
    const { id, token } = await issueToken(['--uses', '2']);
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => register(token, metadata(`Raffica ${id} ${i}`))));
    expect(answers.filter((a) => a.status === 201)).toHaveLength(2);
    expect(answers.filter((a) => a.status === 401)).toHaveLength(6);
    expect(await uses(id)).toBe(2);
    const registered = await server.db.selectFrom('services').select('id').where('initial_access_token_id', '=', id).execute();
    expect(registered).toHaveLength(2);
  });

  it('gives the use back when the new client id turns out to be taken', async () => {
    const { id, token } = await issueToken();
    const { settings } = (await server.deps.serviceAdministration.repository.find('servizio-esistente'))!;
    expect(await server.deps.serviceAdministration.registerWithToken({ id: 'servizio-esistente', settings, secret: null, tokenDigest: secretDigest(token) })).toBe('taken');
    expect(await uses(id)).toBe(0);
  });

  it('names bad metadata field by field and does not spend the token', async () => {
    const { id, token } = await issueToken();
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ redirect_uris: ['https://rp.example/cb#frammento'] }, 'redirect_uris.0: must not contain a fragment'],
      [{ redirect_uris: ['https://*.rp.example/cb'] }, 'redirect_uris.0: must not contain wildcards'],
      [{ redirect_uris: ['http://rp.example/cb'] }, 'redirect_uris.0: must use https'],
      [{ client_name: '' }, 'client_name:'],
      [{ grant_types: ['client_credentials'] }, 'grant_types: only authorization_code and refresh_token'],
      [{ scope: 'openid admin' }, 'scope: admin (the admin API) only'],
      [{ scope: 'openid poteri' }, 'scope.1:'],
      [{ logo_uri: 'http://rp.example/logo.png' }, 'logo_uri:'],
    ];
    for (const [change, message] of cases) {
      const answer = await register(token, metadata('Sbagliato', change));
      expect(answer.status).toBe(400);
      expect(answer.body.error).toBe(message.startsWith('redirect_uris') ? 'invalid_redirect_uri' : 'invalid_client_metadata');
      expect(String(answer.body.error_description)).toContain(message);
    }
    expect(await uses(id)).toBe(0);
  });

  it('lets the partner read, update and delete its service (RFC 7592), the registration access token rotating on update', async () => {
    const { token } = await issueToken();
    const created = await register(token, metadata('Da gestire'));
    expect(created.status).toBe(201);
    const id = String(created.body.client_id);
    const uri = String(created.body.registration_client_uri);
    const rat = String(created.body.registration_access_token);

    const read = await manage(uri, rat, 'GET');
    expect(read.status).toBe(200);
    expect(read.body.client_name).toBe('Da gestire');
    // the catalogue keeps a digest, never shown as if it were the secret
    expect(read.body.client_secret).toBeUndefined();

    // the administrator's choices survive the partner's update
    await server.deps.serviceAdministration.update(id, { ...(await server.deps.serviceAdministration.repository.find(id))!.settings, enablementRequired: true }, { kind: 'system', via: 'cli' });
    const { client_secret: _s, client_secret_expires_at: _e, registration_access_token: _r, registration_client_uri: _u, ...current } = read.body;
    const updated = await manage(uri, rat, 'PUT', { ...current, client_name: 'Gestito', first_party: true });
    expect(updated.status).toBe(200);
    expect(updated.body.client_name).toBe('Gestito');
    const settings = (await server.deps.serviceAdministration.repository.find(id))!.settings;
    expect(settings).toMatchObject({ name: 'Gestito', firstParty: false, enablementRequired: true });
    const rotated = String(updated.body.registration_access_token);
    expect(rotated).not.toBe(rat);
    expect((await manage(uri, rat, 'GET')).status).toBe(401);

    // the catalogue holds only the secret's digest: an update naming the secret is refused, and says why
    expect(await manage(uri, rotated, 'PUT', { ...current, client_secret: created.body.client_secret })).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
    const refused = await manage(uri, rotated, 'PUT', { ...current, redirect_uris: ['https://rp.example/cb#x'] });
    expect(refused).toMatchObject({ status: 400, body: { error: 'invalid_redirect_uri' } });
    expect((await server.deps.serviceAdministration.repository.find(id))!.settings.redirectUris).toEqual(current.redirect_uris);

    // disabled by an administrator: refused, yet manageable again once enabled
    await server.deps.serviceAdministration.setEnabled(id, false, { kind: 'system', via: 'cli' });
    expect((await manage(uri, rotated, 'GET')).status).toBe(401);
    await server.deps.serviceAdministration.setEnabled(id, true, { kind: 'system', via: 'cli' });
    expect((await manage(uri, rotated, 'GET')).status).toBe(200);

    expect((await manage(uri, rotated, 'DELETE')).status).toBe(204);
    expect(await server.deps.serviceAdministration.repository.find(id)).toBeUndefined();
    const actions = await server.db.selectFrom('audit_log').select(['action', 'actor_kind']).where('client_id', '=', id).orderBy('occurred_at').execute();
    expect(actions.filter((a) => a.actor_kind === 'service').map((a) => a.action)).toEqual(['service.registered', 'service.updated', 'service.removed']);
  });

  it('keeps the console-registered services out of reach of registration access tokens', async () => {
    const answer = await fetch(`${server.url}/reg/servizio-esistente`, { headers: { authorization: 'Bearer qualcosa' } });
    expect(answer.status).toBe(401);
  });
});

describe('initial access tokens in the admin console', () => {
  it('issues a token shown once, names bad fields, and revokes after a confirmation page', async () => {
    const { b } = await adminAtConsole(server);
    const PAGE = '/admin/registrazione-dinamica';
    const post = async (action: string, fields: Record<string, string>) => {
      const form = formFields((await b.follow(await b.get(action === PAGE ? PAGE : `${action}?id=${fields.id}`))).body, new RegExp(`${action}$`));
      return b.follow(await b.post(form.action, { ...form.fields, ...fields }));
    };

    const refused = await post(PAGE, { label: '', uses: '0', days: '1000' });
    expect(refused.response.status).toBe(400);
    for (const text of ['Per chi è: scrivi', 'Quanti servizi può registrare: un numero da 1 a 1000', 'Per quanti giorni vale: un numero da 1 a 90']) expect(refused.body).toContain(text);

    const issued = await post(PAGE, { label: 'Comune di Esempio – portale tributi', uses: '1', days: '3' });
    expect(issued.response.status).toBe(201);
    const token = /id="token" value="([^"]+)"/.exec(issued.body)![1]!;
    expect(issued.body).toContain('non sarà più mostrato');
    const listed = await b.follow(await b.get(PAGE));
    expect(listed.body).toContain('Comune di Esempio – portale tributi');
    expect(listed.body).not.toContain(token);

    const id = /data-token="(iat-[0-9a-f]+)"/.exec(listed.body)![1]!;
    const confirmed = await post(`${PAGE}/revoca`, { id });
    expect(confirmed.body).toContain(`Token ${id} revocato.`);
    expect(await register(token, metadata('Dopo la revoca'))).toMatchObject({ status: 401, body: { error: 'invalid_token' } });
    const audit = await server.db.selectFrom('audit_log').select(['action', 'actor_kind']).where('action', 'in', ['iat.issued', 'iat.revoked']).where(sql`details->>'id'`, '=', id).execute();
    expect(audit.map((a) => `${a.action}:${a.actor_kind}`).sort()).toEqual(['iat.issued:admin', 'iat.revoked:admin']);
  });
});
