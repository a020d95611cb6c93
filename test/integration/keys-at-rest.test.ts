import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calculateJwkThumbprint, createLocalJWKSet, decodeProtectedHeader, exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, type JWK } from 'jose';
import { Migrator, sql } from 'kysely';
import pg from 'pg';
import { ConfigError, loadConfig, projectRoot } from '../../src/config.js';
import { createDatabase, pgliteDirectory, type Db } from '../../src/db/index.js';
import { migrations } from '../../src/db/migrations/index.js';
import { createLogger } from '../../src/logger.js';
import { KEYS_ENCRYPTION_KEY_FILE, loadKeysEncryptionKey, openSecret, sealSecret, type SealedSecret } from '../../src/provider/key-encryption.js';
import { createServer } from '../../src/server.js';
import { adminCommand } from '../../src/admin/command.js';
import { loadServiceDefinitions } from '../../src/services/catalogue.js';
import { FormBrowser } from '../support/browser.js';
import { redeem, relyingParty, signIn } from '../support/oidc.js';
import { loadOrCreateKeys } from '../../src/provider/keys.js';
import { TEST_ARGON2, testPerson } from '../support/server.js';

/*
 * Several of these tests are destructive (a wrong KEK, rows in clear from an older version),
 * so each one gets a key table nobody else sees: on PGlite, the embedded default's files in a
 * temporary DATA_DIR; on PostgreSQL (DATABASE_URL, shared by every test file), a schema of its
 * own reached through search_path, dropped afterwards. DATA_DIR is always temporary, so the
 * generated KEK file never lands in the repository's data/.
 */
const serverMode = Boolean(process.env.DATABASE_URL);
const KEK_A = randomBytes(32).toString('base64');
const KEK_B = randomBytes(32).toString('base64');
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

// a new PGlite directory costs seconds (initdb): the tests copy one made here
let pgliteTemplate: string | undefined;
beforeAll(async () => {
  if (serverMode) return;
  pgliteTemplate = mkdtempSync(join(tmpdir(), 'iam-keys-template-'));
  cleanups.push(async () => rmSync(pgliteTemplate!, { recursive: true, force: true }));
  await (await createDatabase({ pgliteDir: pgliteTemplate })).destroy();
});

interface Store {
  dataDir: string;
  /** DATA_DIR, and on PostgreSQL a DATABASE_URL whose search_path is the store's schema */
  env: Record<string, string>;
}

/** A fresh, migrated key table (up to `target`: an older version's schema). */
async function freshStore(target?: string): Promise<Store> {
  const dataDir = mkdtempSync(join(tmpdir(), 'iam-keys-'));
  cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
  const store: Store = { dataDir, env: { DATA_DIR: dataDir } };
  let schema: string | undefined;
  if (pgliteTemplate) cpSync(pgliteTemplate, pgliteDirectory(dataDir), { recursive: true });
  if (serverMode) {
    schema = `test_keys_${randomBytes(6).toString('hex')}`;
    await admin(`create schema ${schema}`);
    cleanups.push(() => admin(`drop schema ${schema} cascade`));
    const url = new URL(process.env.DATABASE_URL!);
    url.searchParams.set('options', `-c search_path=${schema}`);
    store.env.DATABASE_URL = url.toString();
  }
  await withDb(store, async (db) => {
    // Kysely's bookkeeping tables named in the schema: unqualified, the migrator would find the
    // shared database's own in public and skip creating ours
    const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations }, ...(schema ? { migrationTableSchema: schema } : {}) });
    const { error } = target ? await migrator.migrateTo(target) : await migrator.migrateToLatest();
    if (error) throw error;
  });
  return store;
}

async function admin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

async function withDb<T>(store: Store, use: (db: Db) => Promise<T>): Promise<T> {
  const db = await createDatabase({ databaseUrl: store.env.DATABASE_URL, pgliteDir: pgliteDirectory(store.dataDir) });
  try {
    return await use(db);
  } finally {
    await db.destroy();
  }
}

interface StoredKey {
  kid: string;
  use: string;
  alg: string | null;
  secret: Record<string, unknown>;
  text: string;
}

const storedKeys = (store: Store) =>
  withDb(store, (db) =>
    db
      .selectFrom('provider_keys')
      .select(['kid', 'use', 'alg', 'secret', sql<string>`secret::text`.as('text')])
      .orderBy('kid')
      .execute(),
  ) as Promise<StoredKey[]>;

/** The whole app on this store, as main would start it, on a free port. */
async function start(store: Store, env: Record<string, string> = {}, port?: number) {
  port ??= await freePort();
  const url = `http://127.0.0.1:${port}`;
  const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', DEMO_SEED: 'false', PORT: String(port), ISSUER: url, ...store.env, ...env });
  const server = await createServer({ config, logger: createLogger('silent'), argon2: TEST_ARGON2 });
  await server.listen(port, '127.0.0.1');
  return Object.assign(server, { url });
}

async function freePort(): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

async function publishedKeys(store: Store, env: Record<string, string>): Promise<Array<JWK & { kid: string }>> {
  const server = await start(store, env);
  try {
    return ((await (await fetch(`${server.url}/jwks`)).json()) as { keys: Array<JWK & { kid: string }> }).keys;
  } finally {
    await server.close();
  }
}

const decode = (base64: string) => Buffer.from(base64, 'base64');

describe('the sealed format', () => {
  const kek = randomBytes(32);
  const sealed = sealSecret(kek, 'kid-1', { value: 'secret' });

  it('opens with the same key and kid only', () => {
    expect(sealed).toMatchObject({ v: 1, alg: 'A256GCM' });
    expect(openSecret(kek, 'kid-1', sealed)).toEqual({ value: 'secret' });
    expect(() => openSecret(randomBytes(32), 'kid-1', sealed)).toThrow('authentication failed');
    // a sealed value copied into another row
    expect(() => openSecret(kek, 'kid-2', sealed)).toThrow('authentication failed');
  });

  it('notices any altered byte and a shortened tag, and draws a new IV every time', () => {
    const flip = (b64: string) => {
      const bytes = Buffer.from(b64, 'base64url');
      bytes[0]! ^= 1;
      return bytes.toString('base64url');
    };
    expect(() => openSecret(kek, 'kid-1', { ...sealed, ciphertext: flip(sealed.ciphertext) })).toThrow('authentication failed');
    expect(() => openSecret(kek, 'kid-1', { ...sealed, tag: flip(sealed.tag) })).toThrow('authentication failed');
    expect(() => openSecret(kek, 'kid-1', { ...sealed, tag: sealed.tag.slice(0, 8) })).toThrow('malformed');
    expect(() => openSecret(kek, 'kid-1', { ...sealed, v: 2 } as unknown as SealedSecret)).toThrow('unknown format');
    expect(sealSecret(kek, 'kid-1', { value: 'secret' }).iv).not.toBe(sealed.iv);
  });
});

describe(`keys at rest (${serverMode ? 'PostgreSQL, a schema per test' : 'PGlite in a temporary DATA_DIR'})`, () => {
  it('stores every secret encrypted, and the signing keys it decrypts to are the ones /jwks publishes', async () => {
    const store = await freshStore();
    const published = await publishedKeys(store, { KEYS_ENCRYPTION_KEY: KEK_A });
    const rows = await storedKeys(store);
    expect(rows.map((r) => r.use).sort()).toEqual(['cookie', 'csrf', 'signing', 'signing']);

    const opened = rows.map((r) => ({ ...r, clear: openSecret(decode(KEK_A), r.kid, r.secret as unknown as SealedSecret) as Record<string, string> }));
    for (const row of opened) {
      expect(Object.keys(row.secret).sort()).toEqual(['alg', 'ciphertext', 'iv', 'tag', 'v']);
      expect(row.text).not.toContain('"d"');
      for (const part of Object.values(row.clear).filter((v) => typeof v === 'string' && v.length >= 32)) expect(row.text).not.toContain(part);
    }
    const valueOf = (use: string) => opened.find((r) => r.use === use)!.clear.value;
    expect(valueOf('csrf')).toMatch(/^[\w-]{43}$/);
    expect(valueOf('csrf')).not.toBe(valueOf('cookie'));

    const signing = opened.filter((r) => r.use === 'signing');
    expect(published.map((k) => k.kid).sort()).toEqual(signing.map((r) => r.kid).sort());
    const jwks = createLocalJWKSet({ keys: published });
    for (const { clear: jwk } of signing) {
      expect(jwk.d).toBeDefined();
      const token = await new SignJWT({ sub: 'prova' }).setProtectedHeader({ alg: jwk.alg!, kid: jwk.kid }).sign(await importJWK(jwk, jwk.alg));
      await expect(jwtVerify(token, jwks)).resolves.toMatchObject({ payload: { sub: 'prova' } });
    }
  });

  it('loads the same keys on the next start with the same KEK, without rewriting them', async () => {
    const store = await freshStore();
    const first = await publishedKeys(store, { KEYS_ENCRYPTION_KEY: KEK_A });
    const rows = await storedKeys(store);
    const again = await publishedKeys(store, { KEYS_ENCRYPTION_KEY: KEK_A });
    expect(again.map((k) => k.kid)).toEqual(first.map((k) => k.kid));
    expect(await storedKeys(store)).toEqual(rows);
    expect(existsSync(join(store.dataDir, KEYS_ENCRYPTION_KEY_FILE))).toBe(false);
  });

  it('refuses to start with another KEK, in one clear line, and leaves the stored keys alone', async () => {
    const store = await freshStore();
    await publishedKeys(store, { KEYS_ENCRYPTION_KEY: KEK_A });
    const rows = await storedKeys(store);

    const failure = await start(store, { KEYS_ENCRYPTION_KEY: KEK_B }).then(
      () => undefined,
      (error: unknown) => error as Error,
    );
    // a ConfigError: main prints its message as the one line before exiting
    expect(failure).toBeInstanceOf(ConfigError);
    expect(failure!.message).toMatch(/^the stored keys cannot be decrypted with KEYS_ENCRYPTION_KEY: key \S+ \((signing|cookie|csrf)\): authentication failed/);
    expect(failure!.message).not.toContain('\n');
    expect(await storedKeys(store)).toEqual(rows);
  });

  it('encrypts in place the keys an earlier version stored in clear, keeping them', async () => {
    const store = await freshStore('0001_initial');
    const legacy = await withDb(store, async (db) => {
      const rows = [
        ...(await Promise.all((['RS256', 'ES256'] as const).map(async (alg) => {
          const jwk = await exportJWK((await generateKeyPair(alg, { extractable: true })).privateKey);
          const kid = await calculateJwkThumbprint(jwk);
          return { kid, use: 'signing' as const, alg, secret: { ...jwk, kid, alg, use: 'sig' } };
        }))),
        { kid: 'cookie-0123456789abcdef', use: 'cookie' as const, alg: null, secret: { value: randomBytes(32).toString('base64url') } },
      ];
      for (const row of rows) await db.insertInto('provider_keys').values({ ...row, secret: JSON.stringify(row.secret) }).execute();
      return rows;
    });

    const published = await publishedKeys(store, { KEYS_ENCRYPTION_KEY: KEK_A });
    expect(published.map((k) => k.kid).sort()).toEqual(legacy.filter((r) => r.use === 'signing').map((r) => r.kid).sort());
    const rows = await storedKeys(store);
    for (const old of legacy) {
      const row = rows.find((r) => r.kid === old.kid)!;
      expect(row.text).not.toContain('"d"');
      expect(openSecret(decode(KEK_A), row.kid, row.secret as unknown as SealedSecret)).toEqual(old.secret);
    }
    expect(rows.filter((r) => r.use === 'csrf')).toHaveLength(1);
    // and from now on the database itself refuses a key in clear
    await expect(
      withDb(store, (db) => db.insertInto('provider_keys').values({ kid: 'cookie-clear', use: 'cookie', alg: null, secret: JSON.stringify({ value: 'x' }) }).execute()),
    ).rejects.toThrow(/provider_keys_secret_sealed/);
    // nor one in clear beside a sealed value
    const sealedRow = rows.find((r) => r.use === 'csrf')!;
    await expect(
      withDb(store, (db) => db.insertInto('provider_keys').values({ kid: 'csrf-leaky', use: 'csrf', alg: null, secret: JSON.stringify({ ...sealedRow.secret, value: 'x' }) }).execute()),
    ).rejects.toThrow(/provider_keys_secret_sealed/);
  });

  it('without KEYS_ENCRYPTION_KEY, generates one into DATA_DIR (mode 0600) and reuses it', async () => {
    const store = await freshStore();
    const file = join(store.dataDir, KEYS_ENCRYPTION_KEY_FILE);
    const first = await publishedKeys(store, {});
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const kek = readFileSync(file, 'utf8');
    expect(Buffer.from(kek.trim(), 'base64url')).toHaveLength(32);

    const again = await publishedKeys(store, {});
    expect(readFileSync(file, 'utf8')).toBe(kek);
    expect(again.map((k) => k.kid)).toEqual(first.map((k) => k.kid));
    for (const row of await storedKeys(store)) expect(() => openSecret(decode(kek.trim()), row.kid, row.secret as unknown as SealedSecret)).not.toThrow();
  });

  it('lets concurrent first starts agree on one generated KEK', async () => {
    const config = loadConfig({ NODE_ENV: 'test', DATA_DIR: mkdtempSync(join(tmpdir(), 'iam-kek-')) });
    cleanups.push(async () => rmSync(config.dataDir, { recursive: true, force: true }));
    // both find no file; one creates it ('wx'), the other gets EEXIST and reads it
    const [a, b] = await Promise.all([loadKeysEncryptionKey(config), loadKeysEncryptionKey(config)]);
    expect(a.key).toHaveLength(32);
    expect(b.key).toEqual(a.key);
  });
});

describe(`key rotation (${serverMode ? 'PostgreSQL' : 'PGlite'})`, () => {
  it('makes new keys active while the previous ones verify for the overlap, then retires them', async () => {
    const store = await freshStore();
    const env = { KEYS_ENCRYPTION_KEY: KEK_A };
    const port = await freePort();
    const pago = loadServiceDefinitions(join(projectRoot(), 'clients.json'), { production: false }).find((s) => s.id === 'pago-in-rete')!;

    let server = await start(store, env, port);
    const person = testPerson();
    await server.deps.provisioning.provision(person);
    const rp = await relyingParty(server.url, pago);
    const before = await signIn(new FormBrowser(server.url), rp, { username: (await server.deps.accounts.findByFiscalCode(person.fiscalCode))!.username, password: person.password }, { scope: 'openid' });
    const oldToken = (await redeem(rp, before.page.url, before.start)).id_token!;
    const oldKid = decodeProtectedHeader(oldToken).kid!;

    const rotated = await adminCommand(['keys', 'rotate', '--overlap', '7200', '--json'], server.deps.commands);
    expect(rotated.code).toBe(0);
    const { created, retiring } = JSON.parse(rotated.stdout) as { created: string[]; retiring: string[] };
    expect(retiring).toContain(oldKid);
    expect((await adminCommand(['keys', 'rotate', '--overlap', '60'], server.deps.commands)).code).toBe(1);
    expect((await adminCommand(['keys', 'retire', created[0]!], server.deps.commands)).code).toBe(1);
    await server.close();

    // the next start: the new keys sign, the old ones are published to verify only
    server = await start(store, env, port);
    const jwks = ((await (await fetch(`${server.url}/jwks`)).json()) as { keys: Array<JWK & { kid: string }> }).keys;
    expect(jwks.map((k) => k.kid).sort()).toEqual([...created, ...retiring.filter((k) => jwks.some((j) => j.kid === k))].sort());
    expect(jwks.find((k) => k.kid === oldKid)).toMatchObject({ key_ops: ['verify'] });
    await expect(jwtVerify(oldToken, createLocalJWKSet({ keys: jwks }))).resolves.toBeDefined();
    // (sessions live in the store, which this test's in-process one loses at a restart: a new sign-in)
    const again = await signIn(new FormBrowser(server.url), rp, { username: (await server.deps.accounts.findByFiscalCode(person.fiscalCode))!.username, password: person.password }, { scope: 'openid' });
    const newToken = (await redeem(rp, again.page.url, again.start)).id_token!;
    expect(created).toContain(decodeProtectedHeader(newToken).kid);
    // cookies: signed with the new key, the old one still verifies them during the overlap
    const cookieKeysNow = (await withDb(store, (db) => loadOrCreateKeys(db, { key: decode(KEK_A), source: 'test' }))).cookieKeys;
    expect(cookieKeysNow).toHaveLength(2);
    const listed = JSON.parse((await adminCommand(['keys', 'list', '--json'], server.deps.commands)).stdout) as Array<{ kid: string; state: string }>;
    expect(listed.find((k) => k.kid === oldKid)!.state).toBe('retiring');

    // the overlap ends: retired, gone from /jwks at the next start
    for (const kid of retiring) expect((await adminCommand(['keys', 'retire', kid], server.deps.commands)).code).toBe(0);
    await server.close();
    server = await start(store, env, port);
    try {
      const after = ((await (await fetch(`${server.url}/jwks`)).json()) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid);
      expect(after.sort()).toEqual([...created].sort());
      expect((await withDb(store, (db) => loadOrCreateKeys(db, { key: decode(KEK_A), source: 'test' }))).cookieKeys).toHaveLength(1);
      await expect(jwtVerify(oldToken, createLocalJWKSet({ keys: ((await (await fetch(`${server.url}/jwks`)).json()) as { keys: JWK[] }).keys }))).rejects.toThrow();
    } finally {
      await server.close();
    }
  }, 90_000);
});

describe('production', () => {
  it('generates the KEK file only for the embedded database', async () => {
    const config = loadConfig({ NODE_ENV: 'production', DATA_DIR: mkdtempSync(join(tmpdir(), 'iam-kek-')) });
    cleanups.push(async () => rmSync(config.dataDir, { recursive: true, force: true }));
    await expect(loadKeysEncryptionKey(config)).resolves.toMatchObject({ source: expect.stringContaining(KEYS_ENCRYPTION_KEY_FILE) });
  });

  it('refuses to start on PostgreSQL without KEYS_ENCRYPTION_KEY, in one line saying how to make one', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'iam-start-'));
    cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    // nothing listens on port 1: the refusal comes before any connection
    const result = await runMain({ NODE_ENV: 'production', DATABASE_URL: 'postgres://iam@127.0.0.1:1/iam', DATA_DIR: dataDir });
    expect(result.code).toBe(1);
    expect(result.stderr.split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^iam-istruzione: KEYS_ENCRYPTION_KEY is required in production with DATABASE_URL: .*`openssl rand -base64 32`/);
    expect(existsSync(join(dataDir, KEYS_ENCRYPTION_KEY_FILE))).toBe(false);
  });
});

/** `src/main.ts` as `npm start` runs it, with only these variables. */
function runMain(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: projectRoot(),
    env: { PATH: process.env.PATH, PORT: '0', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) =>
    child.on('close', (code) => resolve({ code, stderr: stderr.split('\n').filter((l) => l && !/Unsupported runtime/.test(l)).join('\n') })),
  );
}
