import { SPID_LEVEL_1_POLICY } from '../../src/accounts/password-policy.js';
import { sql } from 'kysely';
import { createDatabase, type Db } from '../../src/db/index.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { createAuditLog } from '../../src/audit/audit-log.js';
import { createAccountProvisioning } from '../../src/accounts/provisioning.js';
import { createPasswordHasher } from '../../src/accounts/password-hashing.js';
import { createAccountRepository } from '../../src/accounts/repository.js';
import { startTestServer, TEST_ARGON2, testPerson } from '../support/server.js';

const where = process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite';
let db: Db;

beforeAll(async () => {
  db = await createDatabase({ databaseUrl: process.env.DATABASE_URL, pgliteDir: 'memory://' });
  await migrateToLatest(db);
});
afterAll(() => db.destroy());

describe(`database (${where})`, () => {
  it('migrations are idempotent', async () => {
    const again = await migrateToLatest(db);
    expect(again.results).toEqual([]);
  });

  it('keeps the audit log append-only', async () => {
    const audit = createAuditLog(db);
    await audit.record({ actorKind: 'system', action: 'test.entry', outcome: 'success' });
    await expect(sql`update audit_log set action = 'x'`.execute(db)).rejects.toThrow('append-only');
    await expect(sql`delete from audit_log`.execute(db)).rejects.toThrow('append-only');
  });

  it('guards unique codice fiscale and case-insensitive usernames, and rolls back a failed creation whole', async () => {
    const provisioning = createAccountProvisioning({ db, hasher: createPasswordHasher(TEST_ARGON2), audit: createAuditLog(db), policy: SPID_LEVEL_1_POLICY });
    const accounts = createAccountRepository(db);
    const person = testPerson();
    const first = await provisioning.provision(person);
    await expect(provisioning.provision(person)).rejects.toThrow(/fiscal_code/);
    expect(await accounts.findCredentialsByUsername(first.username.toUpperCase())).toBeDefined();

    // same name, another person: the username gets a numeric suffix
    const namesake = await provisioning.provision(testPerson({ givenName: person.givenName, familyName: person.familyName }));
    // (the lowest free suffix: on a shared database other tests may hold the same names)
    const base = first.username.replace(/\d+$/, '');
    expect(namesake.username).toMatch(new RegExp(`^${base.replace('.', '\\.')}\\d+$`));
    expect(namesake.username).not.toBe(first.username);

    // no half-written record: a failing school assignment rolls back the account
    const broken = testPerson({ schools: [{ schoolCode: 'not-a-school', role: 'docente' }] });
    await expect(provisioning.provision(broken)).rejects.toThrow();
    expect(await accounts.findByFiscalCode(broken.fiscalCode)).toBeUndefined();
  });

  it('refuses an account whose codice fiscale does not match the person', async () => {
    const provisioning = createAccountProvisioning({ db, hasher: createPasswordHasher(TEST_ARGON2), audit: createAuditLog(db), policy: SPID_LEVEL_1_POLICY });
    await expect(provisioning.provision({ ...testPerson({ givenName: 'Anna' }), givenName: 'Carlo' })).rejects.toThrow('cf.name_mismatch');
  });
});

// generation, persistence and encryption at rest: keys-at-rest.test.ts
describe('keys', () => {
  it('are published without private parts, and never the library development keys', async () => {
    const server = await startTestServer();
    try {
      const { keys } = (await (await fetch(`${server.url}/jwks`)).json()) as { keys: Array<Record<string, unknown>> };
      expect(keys.map((k) => k.alg)).toEqual(['RS256', 'ES256']);
      for (const key of keys) for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(key).not.toHaveProperty(secret);
      const stored = await server.db.selectFrom('provider_keys').select('kid').where('use', '=', 'signing').execute();
      expect(keys.map((k) => k.kid).every((kid) => stored.some((s) => s.kid === kid))).toBe(true);
    } finally {
      await server.close();
    }
  });
});
