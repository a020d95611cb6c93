import { createDatabase, type Db } from '../../src/db/index.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { createAuditLog } from '../../src/audit/audit-log.js';
import { createPasswordAuthenticator } from '../../src/accounts/authentication.js';
import { createLoginThrottle } from '../../src/accounts/login-throttle.js';
import { createPasswordHasher } from '../../src/accounts/password-hashing.js';
import { createAccountProvisioning } from '../../src/accounts/provisioning.js';
import { testPerson } from '../support/server.js';

let db: Db;
beforeAll(async () => {
  db = await createDatabase({ databaseUrl: process.env.DATABASE_URL, pgliteDir: 'memory://' });
  await migrateToLatest(db);
});
afterAll(() => db.destroy());

const storedHash = async (id: string) =>
  (await db.selectFrom('accounts').select('password_hash').where('id', '=', id).executeTakeFirstOrThrow()).password_hash;

describe('password authentication', () => {
  it('rehashes transparently with the current argon2id parameters at the next sign-in', async () => {
    const audit = createAuditLog(db);
    const old = createPasswordHasher({ memoryCost: 1024, timeCost: 1, parallelism: 1 });
    const person = testPerson();
    const account = await createAccountProvisioning({ db, hasher: old, audit }).provision(person);
    expect(await storedHash(account.id)).toMatch(/^\$argon2id\$v=19\$m=1024,p=1,t=1\$/);

    const current = createPasswordHasher({ memoryCost: 2048, timeCost: 2, parallelism: 1 });
    const authenticator = createPasswordAuthenticator({ db, hasher: current, throttle: createLoginThrottle(), audit });
    const outcome = await authenticator.authenticate({ username: account.username, password: person.password, ip: '192.0.2.1' });
    expect(outcome.ok).toBe(true);
    expect(await storedHash(account.id)).toMatch(/^\$argon2id\$v=19\$m=2048,p=1,t=2\$/);

    // the new hash still verifies the same password, and the audit entry names the rehash
    expect((await authenticator.authenticate({ username: account.username, password: person.password, ip: '192.0.2.1' })).ok).toBe(true);
    const entries = await db.selectFrom('audit_log').select('details').where('subject_id', '=', account.id).where('outcome', '=', 'success').where('action', '=', 'login.password').orderBy('id').execute();
    expect(entries.map((e) => e.details.rehashed)).toEqual([true, false]);
  });

  it('never writes the password to the audit log', async () => {
    const audit = createAuditLog(db);
    const hasher = createPasswordHasher({ memoryCost: 1024, timeCost: 1, parallelism: 1 });
    const person = testPerson();
    const account = await createAccountProvisioning({ db, hasher, audit }).provision(person);
    const authenticator = createPasswordAuthenticator({ db, hasher, throttle: createLoginThrottle(), audit });
    await authenticator.authenticate({ username: account.username, password: 'Tentativo-Segreto-9!', ip: '192.0.2.2' });
    const rows = await db.selectFrom('audit_log').selectAll().where('subject_id', '=', account.id).execute();
    expect(JSON.stringify(rows)).not.toContain('Tentativo-Segreto-9!');
    expect(JSON.stringify(rows)).not.toContain(person.password);
  });
});
