import { spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { adminCommand } from '../../src/admin/command.js';
import { sql } from 'kysely';
import { ADMIN_CONSOLE } from '../../src/services/consoles.js';
import { FormBrowser, formFields } from '../support/browser.js';
import { client, redeem, refreshRequest, relyingParty, signIn, submitLogin, tokenRequest, type RelyingParty } from '../support/oidc.js';
import { adminAtConsole as consoleAdmin, browserFor, testAccount } from '../support/admin.js';
import { startTestServer, testService, type TestServer } from '../support/server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ services: [testService({ id: 'servizio-esistente' })], env: { TRUST_PROXY: '1' } });
});
afterAll(() => server.close());

const SERVICES = `${ADMIN_CONSOLE.path}/servizi`;
const browser = () => browserFor(server);
/** ids unique across test files sharing one PostgreSQL database */
const newId = (prefix: string) => `${prefix}-${randomInt(1e9)}`;

const account = (options: { admin?: boolean } = {}) => testAccount(server, options);

async function adminAtConsole() {
  const signedIn = await consoleAdmin(server);
  expect(signedIn.home.response.status).toBe(200);
  return signedIn;
}

/** A form posted with repeated fields (checkbox groups), the CSRF token read from the page it came from. */
async function postForm(b: FormBrowser, page: string, action: RegExp, fields: Array<[string, string]>, options: { csrf?: boolean } = {}) {
  const form = formFields((await b.follow(await b.get(page))).body, action);
  const body = new URLSearchParams(options.csrf === false ? [] : [['_csrf', form.fields._csrf!]]);
  for (const [name, value] of fields) body.append(name, value);
  const response = await b.request(form.action, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() });
  return { response, body: await response.text() };
}

const serviceFields = (id: string, overrides: Record<string, string | string[]> = {}): Array<[string, string]> => {
  const fields: Record<string, string | string[]> = {
    id,
    name: `Servizio ${id}`,
    redirectUris: `http://127.0.0.1:9/${id}/callback`,
    postLogoutRedirectUris: `http://127.0.0.1:9/${id}/`,
    firstParty: 'si',
    acceptedAccountTypes: ['standard', 'mi'],
    scopes: ['profile', 'email'],
    grantTypes: ['authorization_code', 'client_credentials'],
    tokenEndpointAuthMethod: 'client_secret_basic',
    ...overrides,
  };
  return Object.entries(fields).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x): [string, string] => [k, x]) : [[k, v] as [string, string]]));
};

const secretIn = (html: string) => /value="([^"]+)" readonly spellcheck="false" autocomplete="off" data-secret/.exec(html)?.[1];

async function registerInConsole(b: FormBrowser, id: string, overrides: Record<string, string | string[]> = {}) {
  return postForm(b, `${SERVICES}/nuovo`, /\/admin\/servizi$/, serviceFields(id, overrides));
}

const rpFor = (id: string, secret: string) =>
  relyingParty(server.url, testService({ id, clientSecret: secret, redirectUris: [`http://127.0.0.1:9/${id}/callback`], scopes: ['openid', 'profile', 'email'] }));

const clientCredentials = (rp: RelyingParty, secret = rp.service.clientSecret!) =>
  tokenRequest({ ...rp, service: { ...rp.service, clientSecret: secret } }, { grant_type: 'client_credentials' });

describe('the service catalogue in the admin console', () => {
  it('registers a service that signs people in at once, its secret shown once and kept only as a digest', async () => {
    const { b } = await adminAtConsole();
    const id = newId('nuovo');
    const created = await registerInConsole(b, id, { 'tokenLifetimes.accessToken': '2' });
    expect(created.response.status).toBe(201);
    const secret = secretIn(created.body)!;
    expect(secret).toMatch(/^[\w-]{43}$/);
    expect(created.body).toContain('non sarà più mostrato');

    // stored as a digest only; the service page does not show it again
    const row = await server.db.selectFrom('services').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.secret_digest).toMatch(/^sha256:/);
    expect(JSON.stringify(row)).not.toContain(secret);
    const page = await b.follow(await b.get(`${SERVICES}/${id}`));
    expect(page.body).not.toContain(secret);

    const rp = await rpFor(id, secret);
    const person = await account();
    const { start, page: callback } = await signIn(new FormBrowser(server.url), rp, { username: person.username, password: person.password });
    const tokens = await redeem(rp, callback.url, start);
    expect(tokens.claims()!.sub).toBeTruthy();
    // its own access token lifetime, 2 minutes
    expect(tokens.expires_in).toBe(120);

    const audit = await server.db.selectFrom('audit_log').select(['action', 'details']).where('client_id', '=', id).execute();
    expect(audit.map((a) => a.action)).toContain('service.registered');
    expect(JSON.stringify(audit)).not.toContain(secret);
  });

  it('names every bad field, keeps what was typed and changes nothing', async () => {
    const { b } = await adminAtConsole();
    const id = newId('sbagliato');
    const before = (await server.deps.serviceAdministration.repository.list()).length;
    const refused = await registerInConsole(b, id, {
      name: '',
      redirectUris: 'http://rp.example/cb\nhttps://rp.example/cb#frammento\nhttps://*.example/cb',
      backchannelLogoutUri: 'non un indirizzo',
      acceptedAccountTypes: [],
      grantTypes: ['refresh_token'],
      'tokenLifetimes.accessToken': '600',
    });
    expect(refused.response.status).toBe(400);
    for (const text of ['Nome: obbligatorio', 'Indirizzi di ritorno (riga 1)', 'Indirizzo di uscita back-channel:', 'Utenze ammesse:', 'Flussi ammessi:', 'Durata dei token:']) {
      expect(refused.body).toContain(text);
    }
    expect(refused.body).toContain('https://rp.example/cb#frammento');
    expect((await server.deps.serviceAdministration.repository.list()).length).toBe(before);

    const reserved = await registerInConsole(b, 'area-riservata');
    expect(reserved.response.status).toBe(400);
    expect(reserved.body).toContain('Identificativo: da 2 a 63 caratteri');
  });

  it('refuses a duplicate id, also when two administrators register it at once', async () => {
    const { b } = await adminAtConsole();
    const id = newId('doppio');
    const answers = await Promise.all([registerInConsole(b, id), registerInConsole(b, id)]);
    expect(answers.map((a) => a.response.status).sort()).toEqual([201, 409]);
    expect(answers.find((a) => a.response.status === 409)!.body).toContain('è già registrato');
    const again = await registerInConsole(b, 'servizio-esistente');
    expect(again.response.status).toBe(409);
  });

  it('rotates the secret: the old one accepted during the grace period, refused after', async () => {
    const { b } = await adminAtConsole();
    const id = newId('ruota');
    const first = secretIn((await registerInConsole(b, id)).body)!;
    const rp = await rpFor(id, first);
    expect((await clientCredentials(rp)).status).toBe(200);

    const rotated = await postForm(b, `${SERVICES}/${id}/segreto`, /\/segreto$/, [['grace', '3600']]);
    expect(rotated.response.status).toBe(200);
    const second = secretIn(rotated.body)!;
    expect(second).not.toBe(first);
    expect(rotated.body).toContain('resta valido fino al');
    expect((await clientCredentials(rp, second)).status).toBe(200);
    expect((await clientCredentials(rp, first)).status).toBe(200);
    expect((await clientCredentials(rp, 'x'.repeat(43))).status).toBe(401);

    // the grace period over
    await server.db.updateTable('services').set({ previous_secret_valid_until: sql<Date>`now() - interval '1 second'` }).where('id', '=', id).execute();
    const late = await clientCredentials(rp, first);
    expect(late.status).toBe(401);
    expect(late.body.error).toBe('invalid_client');
    expect((await clientCredentials(rp, second)).status).toBe(200);

    // no grace: the old one refused at once
    const third = secretIn((await postForm(b, `${SERVICES}/${id}/segreto`, /\/segreto$/, [['grace', '0']])).body)!;
    expect((await clientCredentials(rp, second)).status).toBe(401);
    expect((await clientCredentials(rp, third)).status).toBe(200);
  });

  it('disables a service (refused at /auth and /token), enables it again, removes it', async () => {
    const { b } = await adminAtConsole();
    const id = newId('spento');
    const secret = secretIn((await registerInConsole(b, id)).body)!;
    const rp = await rpFor(id, secret);

    const confirm = await b.follow(await b.get(`${SERVICES}/${id}/disabilita`));
    expect(confirm.body).toContain(`Disabilitare ${id}?`);
    expect((await postForm(b, `${SERVICES}/${id}/disabilita`, /\/disabilita$/, [])).response.status).toBe(200);
    expect((await clientCredentials(rp)).status).toBe(401);
    const auth = await new FormBrowser(server.url).get(client.buildAuthorizationUrl(rp.config, { redirect_uri: rp.service.redirectUris[0]!, scope: 'openid', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' }).toString());
    expect(auth.status).toBe(400);
    expect(await auth.text()).toContain('invalid_client');

    expect((await postForm(b, `${SERVICES}/${id}`, /\/riabilita$/, [])).response.status).toBe(200);
    expect((await clientCredentials(rp)).status).toBe(200);

    expect((await b.follow(await b.get(`${SERVICES}/${id}/elimina`))).body).toContain(`Eliminare ${id}?`);
    expect((await postForm(b, `${SERVICES}/${id}/elimina`, /\/elimina$/, [])).response.status).toBe(200);
    expect(await server.deps.serviceAdministration.repository.find(id)).toBeUndefined();
    expect((await clientCredentials(rp)).status).toBe(401);
    expect((await b.get(`${SERVICES}/${id}`)).status).toBe(404);

    const actions = (await server.db.selectFrom('audit_log').select('action').where('client_id', '=', id).orderBy('id').execute()).map((a) => a.action);
    expect(actions).toEqual(['service.registered', 'service.disabled', 'service.enabled', 'service.removed']);
  });

  it('edits a service: the change holds at the next request; a logo upload is checked by its bytes', async () => {
    const { b } = await adminAtConsole();
    const id = newId('modifica');
    const secret = secretIn((await registerInConsole(b, id)).body)!;
    const rp = await rpFor(id, secret);
    const edited = await postForm(b, `${SERVICES}/${id}`, new RegExp(`/admin/servizi/${id}$`), serviceFields(id, { name: 'Nome nuovo', grantTypes: ['authorization_code'] }).filter(([k]) => k !== 'id'));
    expect(edited.response.status).toBe(200);
    expect(edited.body).toContain('aggiornato');
    // client_credentials is no longer among its grant types
    expect(await clientCredentials(rp)).toMatchObject({ status: 400, body: { error_description: 'requested grant type is not allowed for this client' } });

    const page = await b.follow(await b.get(`${SERVICES}/${id}`));
    const form = formFields(page.body, /\/logo$/);
    const upload = async (bytes: Uint8Array<ArrayBuffer>) => {
      const body = new FormData();
      body.set('_csrf', form.fields._csrf!);
      body.set('logo', new Blob([bytes], { type: 'image/png' }), 'logo.png');
      return b.request(form.action, { method: 'POST', body });
    };
    const svg = new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');
    expect((await upload(svg)).status).toBe(400);
    const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]);
    expect((await upload(png)).status).toBe(200);
    const logoPath = (await server.deps.serviceAdministration.repository.find(id))!.settings.logo!;
    const logo = await fetch(new URL(logoPath, server.url));
    expect(logo.status).toBe(200);
    expect(logo.headers.get('content-type')).toBe('image/png');
    expect(logo.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('refuses a person without the role and a form without its CSRF token', async () => {
    const plain = await account();
    const b = browser();
    const page = await submitLogin(b, await b.follow(await b.get(SERVICES)), plain.username, plain.password);
    expect(page.response.status).toBe(403);
    const { b: adminBrowser } = await adminAtConsole();
    const id = newId('senza-csrf');
    const forged = await postForm(adminBrowser, `${SERVICES}/nuovo`, /\/admin\/servizi$/, serviceFields(id), { csrf: false });
    expect(forged.response.status).toBe(403);
    expect(await server.deps.serviceAdministration.repository.find(id)).toBeUndefined();
  });

  it('applies clients.json at start: a console change stays until the file changes its own entry', async () => {
    const administration = server.deps.serviceAdministration;
    const id = newId('dal-file');
    const declared = testService({ id, name: 'Dal file' });
    expect(await administration.applyFile([declared])).toEqual({ created: [id], updated: [] });
    const fromFile = (await administration.repository.find(id))!;
    expect(fromFile).toMatchObject({ origin: 'file', name: 'Dal file' });

    // an administrator renames it; the file, unchanged, leaves it so at the next start
    const { b } = await adminAtConsole();
    const renamed = await postForm(b, `${SERVICES}/${id}`, new RegExp(`/admin/servizi/${id}$`), serviceFields(id, { name: 'Dalla console', grantTypes: ['authorization_code'] }).filter(([k]) => k !== 'id'));
    expect(renamed.response.status).toBe(200);
    expect(await administration.applyFile([declared])).toEqual({ created: [], updated: [] });
    expect((await administration.repository.find(id))!.name).toBe('Dalla console');

    // the file changes its entry: the file's newer word wins
    expect(await administration.applyFile([{ ...declared, name: 'Dal file, nuovo' }])).toEqual({ created: [], updated: [id] });
    expect((await administration.repository.find(id))!.name).toBe('Dal file, nuovo');
  });

  it('gives refresh tokens their idle lifetime, cut short where the absolute lifetime ends', async () => {
    const { b } = await adminAtConsole();
    const id = newId('refresh');
    const created = await registerInConsole(b, id, {
      scopes: ['profile', 'offline_access'],
      grantTypes: ['authorization_code', 'refresh_token'],
      'tokenLifetimes.refreshTokenIdle': '2',
      'tokenLifetimes.refreshTokenAbsolute': '3',
    });
    const rp = await relyingParty(server.url, testService({ id, clientSecret: secretIn(created.body)!, redirectUris: [`http://127.0.0.1:9/${id}/callback`] }));
    const { start, page } = await signIn(new FormBrowser(server.url), rp, await account(), { scope: 'openid offline_access', prompt: 'consent' });
    const tokens = await redeem(rp, page.url, start);
    const introspect = async (token: string) => (await client.tokenIntrospection(rp.config, token)) as { exp?: number; iat?: number };
    const first = await introspect(tokens.refresh_token!);
    expect(first.exp! - first.iat!).toBe(2 * 86400);
    const rotated = await refreshRequest(rp, tokens.refresh_token!);
    expect(rotated.status).toBe(200);
    const second = await introspect(rotated.body.refresh_token!);
    expect(second.exp! - second.iat!).toBeGreaterThan(2 * 86400 - 5);
    expect(second.exp! - first.iat!).toBeLessThanOrEqual(3 * 86400);
  });
});

describe('the service catalogue from the command line: npm run admin -- services …', () => {
  const admin = (...args: string[]) => adminCommand(['services', ...args], server.deps.commands);

  it('registers a service that signs people in, shows, updates, rotates, disables and removes it', async () => {
    const id = newId('da-cli');
    const added = await admin('add', id, '--name', 'Da riga di comando', '--redirect-uri', `http://127.0.0.1:9/${id}/callback`, '--scopes', 'openid,profile', '--grant-types', 'authorization_code,client_credentials', '--access-token-ttl', '300', '--json');
    expect(added.code).toBe(0);
    const { service, clientSecret } = JSON.parse(added.stdout) as { service: { id: string; confidential: boolean; tokenLifetimes: { accessToken: number } }; clientSecret: string };
    expect(service).toMatchObject({ id, confidential: true, tokenLifetimes: { accessToken: 300 } });

    const rp = await rpFor(id, clientSecret);
    const { start, page } = await signIn(new FormBrowser(server.url), rp, await account(), { scope: 'openid profile' });
    expect((await redeem(rp, page.url, start)).expires_in).toBe(300);

    expect((await admin('show', id)).stdout).toContain('Da riga di comando');
    expect((await admin('list')).stdout).toContain(id);
    const updated = await admin('update', id, '--name', 'Nome cambiato');
    expect(updated).toMatchObject({ code: 0, stdout: `Servizio ${id} aggiornato.` });
    expect((await server.deps.serviceAdministration.repository.find(id))!.settings).toMatchObject({ name: 'Nome cambiato', scopes: ['openid', 'profile'] });

    const rotated = await admin('rotate-secret', id, '--grace', '0');
    const secret = /client_secret: (\S+)/.exec(rotated.stdout)![1]!;
    expect(rotated.stdout).toContain('mostrato ora e mai più');
    expect((await clientCredentials(rp)).status).toBe(401);
    expect((await clientCredentials(rp, secret)).status).toBe(200);

    expect((await admin('disable', id)).stdout).toBe(`Servizio ${id} disabilitato.`);
    expect((await clientCredentials(rp, secret)).status).toBe(401);
    expect((await admin('enable', id)).code).toBe(0);
    expect((await admin('remove', id)).code).toBe(2);
    expect(await server.deps.serviceAdministration.repository.find(id)).toBeDefined();
    expect((await admin('remove', id, '--yes')).stdout).toBe(`Servizio ${id} eliminato.`);
  });

  it('answers bad input with a clear message and an exit code, and changes nothing', async () => {
    const unknown = await admin('show', 'nessun-servizio-mai');
    expect(unknown).toMatchObject({ code: 1, stderr: 'Nessun servizio con identificativo nessun-servizio-mai.' });
    expect((await admin('rotate-secret', 'nessun-servizio-mai')).code).toBe(1);
    expect((await admin('add', 'servizio-esistente', '--name', 'Doppio', '--redirect-uri', 'https://rp.example/cb')).stderr).toContain('è già registrato');

    const id = newId('malformato');
    const malformed = await admin('add', id, '--name', 'Malformato', '--redirect-uri', 'https://rp.example/cb#x', '--redirect-uri', 'non un uri', '--json');
    expect(malformed.code).toBe(1);
    expect(JSON.parse(malformed.stdout)).toMatchObject({ error: 'invalid', problems: [{ field: 'redirectUris.0' }, { field: 'redirectUris.1' }] });
    expect((await admin('add', id, '--name', 'Malformato', '--redirect-uri', 'http://rp.example/cb')).stderr).toContain('Indirizzi di ritorno (riga 1)');
    expect(await server.deps.serviceAdministration.repository.find(id)).toBeUndefined();

    expect(await admin('add', id, '--colour', 'blu')).toMatchObject({ code: 2, stderr: expect.stringContaining("Unknown option '--colour'") });
    expect((await admin('bogus')).code).toBe(2);
    expect(await admin('--help')).toMatchObject({ code: 0, stdout: expect.stringContaining('rotate-secret <id> [--grace <secondi>]') });
  });

  it('refuses a database connection without the administration\'s rights (PostgreSQL)', async () => {
    const cli = (env: Record<string, string>, ...args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'src/admin/cli.ts', ...args], { env: { ...process.env, LOG_LEVEL: 'silent', ...env }, encoding: 'utf8' });
    expect(cli({}, 'services', '--help')).toMatchObject({ status: 0, stdout: expect.stringContaining('services <comando>') });
    if (!process.env.DATABASE_URL) return;
    const role = `iam_no_admin_${randomInt(1e9)}`;
    await sql.raw(`create role ${role} login`).execute(server.db);
    try {
      const url = new URL(process.env.DATABASE_URL);
      url.username = role;
      const denied = cli({ DATABASE_URL: url.toString() }, 'services', 'list');
      expect(denied.status).toBe(1);
      expect(denied.stderr).toContain('non ha i permessi dell\'amministrazione');
    } finally {
      await sql.raw(`drop role ${role}`).execute(server.db);
    }
  }, 60_000);
});
