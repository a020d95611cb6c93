import { SPID_LEVEL_1_POLICY } from '../../src/accounts/password-policy.js';
import { createDatabase, type Db } from '../../src/db/index.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { createAuditLog } from '../../src/audit/audit-log.js';
import { createPasswordAuthenticator } from '../../src/accounts/authentication.js';
import { createLoginThrottle } from '../../src/accounts/login-throttle.js';
import { createPasswordHasher } from '../../src/accounts/password-hashing.js';
import { createAccountProvisioning } from '../../src/accounts/provisioning.js';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { PasswordHasher } from '../../src/accounts/password-hashing.js';
import { testPerson } from '../support/server.js';

let db: Db;
// the throttle's counters live in Redis when the tests run against it
const redis = process.env.REDIS_URL ? new Redis(process.env.REDIS_URL) : undefined;
beforeAll(async () => {
  db = await createDatabase({ databaseUrl: process.env.DATABASE_URL, pgliteDir: 'memory://' });
  await migrateToLatest(db);
});
afterAll(async () => {
  redis?.disconnect();
  await db.destroy();
});

const freshThrottle = () => createLoginThrottle({ redis, keyPrefix: `iam-test-${randomBytes(4).toString('hex')}:throttle:` });

/** The real hasher, counting how many passwords it was asked to check. */
function countingHasher(): PasswordHasher & { verified: number } {
  const real = createPasswordHasher({ memoryCost: 1024, timeCost: 1, parallelism: 1 });
  const counting = {
    ...real,
    verified: 0,
    async verify(hash: string, password: string) {
      counting.verified++;
      return real.verify(hash, password);
    },
    async verifyAgainstNothing(password: string) {
      counting.verified++;
      return real.verifyAgainstNothing(password);
    },
  };
  return counting;
}

describe('the login throttle under a burst', () => {
  it('checks at most the limit of passwords when they all arrive at once, and lets none through after it', async () => {
    const audit = createAuditLog(db);
    const hasher = countingHasher();
    const person = testPerson();
    const account = await createAccountProvisioning({ db, hasher, audit, policy: SPID_LEVEL_1_POLICY }).provision(person);
    const authenticator = createPasswordAuthenticator({ db, hasher, throttle: freshThrottle(), audit, policy: SPID_LEVEL_1_POLICY });

    // 100 attempts at the same moment from one address; the right password is number 60
    const outcomes = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        authenticator.authenticate({ username: account.username, password: i === 59 ? person.password : `Sbagliata-${i}!Aa`, ip: '192.0.2.10' })),
    );
    expect(hasher.verified).toBeLessThanOrEqual(5);
    expect(outcomes.filter((o) => o.ok)).toHaveLength(0);
    expect(outcomes.filter((o) => !o.ok && o.reason === 'throttled').length).toBeGreaterThanOrEqual(95);
    const refused = await db.selectFrom('audit_log').select('details').where('outcome', '=', 'refused').where('action', '=', 'login.password')
      .where('ip', '=', '192.0.2.10').execute();
    expect(refused.length).toBeGreaterThanOrEqual(95);
    // which counter refused first depends on timing: this address's, or (for a moment, while
    // points of refused attempts are given back) the username's
    for (const { details } of refused) expect(details).toMatchObject({ reason: 'throttled', scope: expect.stringMatching(/^username(_ip)?$/) });
  });

  it('keeps a burst from one address from shutting the owner out of a browser the account knows', async () => {
    const audit = createAuditLog(db);
    const hasher = countingHasher();
    const person = testPerson();
    const account = await createAccountProvisioning({ db, hasher, audit, policy: SPID_LEVEL_1_POLICY }).provision(person);
    const authenticator = createPasswordAuthenticator({ db, hasher, throttle: freshThrottle(), audit, policy: SPID_LEVEL_1_POLICY });
    await Promise.all(Array.from({ length: 200 }, () =>
      authenticator.authenticate({ username: account.username, password: 'Sbagliata-1!Aa', ip: '203.0.113.66' })));
    // five of them reached the ladder's first rung: browsers the account does not know wait
    expect(await authenticator.authenticate({ username: account.username, password: person.password, ip: '198.51.100.66' }))
      .toMatchObject({ ok: false, reason: 'throttled' });
    // the owner's own browser (its device cookie) is counted apart
    expect(await authenticator.authenticate({ username: account.username, password: person.password, ip: '198.51.100.66', device: 'dispositivo-del-titolare' }))
      .toMatchObject({ ok: true });
  });

  it('locks the account once when a burst from many addresses reaches the per-username limit', async () => {
    const audit = createAuditLog(db);
    const hasher = countingHasher();
    const account = await createAccountProvisioning({ db, hasher, audit, policy: SPID_LEVEL_1_POLICY }).provision(testPerson());
    const authenticator = createPasswordAuthenticator({ db, hasher, throttle: freshThrottle(), audit, policy: SPID_LEVEL_1_POLICY });
    await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        authenticator.authenticate({ username: account.username, password: 'Sbagliata-1!Aa', ip: `198.51.100.${i + 1}` })),
    );
    expect(hasher.verified).toBeLessThanOrEqual(5);
    const locks = await db.selectFrom('audit_log').select('details').where('subject_id', '=', account.id).where('action', '=', 'account.locked').execute();
    expect(locks).toHaveLength(1);
    expect(locks[0]!.details).toMatchObject({ level: 1 });
  });

  it('counts an IPv6 /64 as one address', async () => {
    const audit = createAuditLog(db);
    const hasher = countingHasher();
    const account = await createAccountProvisioning({ db, hasher, audit, policy: SPID_LEVEL_1_POLICY }).provision(testPerson());
    const authenticator = createPasswordAuthenticator({ db, hasher, throttle: freshThrottle(), audit, policy: SPID_LEVEL_1_POLICY });
    const outcomes = [];
    for (let i = 1; i <= 8; i++) {
      outcomes.push(await authenticator.authenticate({ username: account.username, password: 'Sbagliata-1!Aa', ip: `2001:db8:7:7::${i.toString(16)}` }));
    }
    expect(outcomes.map((o) => (o.ok ? 'ok' : o.reason))).toEqual([...Array(5).fill('invalid_credentials'), ...Array(3).fill('throttled')]);
  });

  it('starts the count again after a success', async () => {
    const audit = createAuditLog(db);
    const hasher = countingHasher();
    const person = testPerson();
    const account = await createAccountProvisioning({ db, hasher, audit, policy: SPID_LEVEL_1_POLICY }).provision(person);
    const authenticator = createPasswordAuthenticator({ db, hasher, throttle: freshThrottle(), audit, policy: SPID_LEVEL_1_POLICY });
    const attempt = (password: string) => authenticator.authenticate({ username: account.username, password, ip: '192.0.2.20' });
    for (let i = 0; i < 4; i++) expect((await attempt('Sbagliata-1!Aa')).ok).toBe(false);
    expect((await attempt(person.password)).ok).toBe(true);
    for (let i = 0; i < 4; i++) expect(await attempt('Sbagliata-1!Aa')).toEqual({ ok: false, reason: 'invalid_credentials' });
    expect((await attempt(person.password)).ok).toBe(true);
  });
});

const storedHash = async (id: string) =>
  (await db.selectFrom('accounts').select('password_hash').where('id', '=', id).executeTakeFirstOrThrow()).password_hash;

describe('password authentication', () => {
  it('rehashes transparently with the current argon2id parameters at the next sign-in', async () => {
    const audit = createAuditLog(db);
    const old = createPasswordHasher({ memoryCost: 1024, timeCost: 1, parallelism: 1 });
    const person = testPerson();
    const account = await createAccountProvisioning({ db, hasher: old, audit, policy: SPID_LEVEL_1_POLICY }).provision(person);
    expect(await storedHash(account.id)).toMatch(/^\$argon2id\$v=19\$m=1024,p=1,t=1\$/);

    const current = createPasswordHasher({ memoryCost: 2048, timeCost: 2, parallelism: 1 });
    const authenticator = createPasswordAuthenticator({ db, hasher: current, throttle: freshThrottle(), audit, policy: SPID_LEVEL_1_POLICY });
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
    const account = await createAccountProvisioning({ db, hasher, audit, policy: SPID_LEVEL_1_POLICY }).provision(person);
    const authenticator = createPasswordAuthenticator({ db, hasher, throttle: freshThrottle(), audit, policy: SPID_LEVEL_1_POLICY });
    await authenticator.authenticate({ username: account.username, password: 'Tentativo-Segreto-9!', ip: '192.0.2.2' });
    const rows = await db.selectFrom('audit_log').selectAll().where('subject_id', '=', account.id).execute();
    expect(JSON.stringify(rows)).not.toContain('Tentativo-Segreto-9!');
    expect(JSON.stringify(rows)).not.toContain(person.password);
  });
});
