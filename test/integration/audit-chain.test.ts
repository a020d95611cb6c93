import { spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { createAuditLog } from '../../src/audit/audit-log.js';
import { verifyAuditChains } from '../../src/audit/verify.js';
import { createDatabase, type Db } from '../../src/db/index.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { createAuditPartitionJob } from '../../src/jobs/audit-partitions.js';

// A database of this file's own: the test alters rows behind the application's back.
const adminUrl = process.env.DATABASE_URL;
const databaseName = `iam_audit_${randomBytes(4).toString('hex')}`;
let db: Db;

beforeAll(async () => {
  if (adminUrl) {
    const admin = await createDatabase({ databaseUrl: adminUrl });
    await sql`create database ${sql.id(databaseName)}`.execute(admin);
    await admin.destroy();
    const url = new URL(adminUrl);
    url.pathname = `/${databaseName}`;
    db = await createDatabase({ databaseUrl: url.toString() });
  } else {
    db = await createDatabase({ pgliteDir: 'memory://' });
  }
  await migrateToLatest(db);
});
afterAll(async () => {
  await db.destroy();
  if (adminUrl) {
    const admin = await createDatabase({ databaseUrl: adminUrl });
    await sql`drop database if exists ${sql.id(databaseName)}`.execute(admin);
    await admin.destroy();
  }
});

const audit = () => createAuditLog(db);

/** What only someone with the database's own credentials could do: the trigger off, a change, the trigger on. */
async function behindTheBack(statement: ReturnType<typeof sql>) {
  await sql`alter table audit_log disable trigger audit_log_append_only`.execute(db);
  await statement.execute(db);
  await sql`alter table audit_log enable trigger audit_log_append_only`.execute(db);
}

describe('the tamper-evident audit log', () => {
  it('links every entry, from many writers at once and in transactions, rolled back ones included', async () => {
    const log = audit();
    await Promise.all(Array.from({ length: 120 }, (_, i) =>
      log.record({ actorKind: 'anonymous', action: 'login.password', outcome: i % 3 ? 'failure' : 'success', ip: `192.0.2.${i % 250}`, subjectId: randomUUID(), details: { attempt: i, at: new Date(), nested: { z: 1, a: [2, { y: 'ü', b: null }] } } })));
    // an entry written in a transaction that fails leaves no trace and no gap
    await db.transaction().execute(async (trx) => {
      await log.record({ actorKind: 'system', action: 'account.suspended', outcome: 'success' }, trx);
      throw new Error('changed my mind');
    }).catch(() => undefined);
    await db.transaction().execute((trx) => log.record({ actorKind: 'admin', action: 'account.reactivated', outcome: 'success', details: { reason: 'kept' } }, trx));

    const { ok, chains } = await verifyAuditChains(db);
    expect(chains.flatMap((c) => c.problems)).toEqual([]);
    expect(ok).toBe(true);
    expect(chains.reduce((n, c) => n + c.entries, 0)).toBe(121);
    // the writers spread over several chains instead of queueing on one
    expect(chains.filter((c) => c.entries > 0).length).toBeGreaterThan(1);
    const { n } = await db.selectFrom('audit_log').select((eb) => eb.fn.countAll<string>().as('n')).where('action', '=', 'account.suspended').executeTakeFirstOrThrow();
    expect(Number(n)).toBe(0);
  });

  it('refuses changes through the application\'s own connection', async () => {
    await expect(sql`update audit_log set action = 'nothing'`.execute(db)).rejects.toThrow(/append-only/);
    await expect(sql`delete from audit_log`.execute(db)).rejects.toThrow(/append-only/);
  });

  it('names an altered row, a deleted one, and one cut from the end of its chain', async () => {
    const busiest = await db.selectFrom('audit_log').select(['chain']).groupBy('chain').orderBy((eb) => eb.fn.countAll(), 'desc').limit(1).executeTakeFirstOrThrow();
    const rows = await db.selectFrom('audit_log').select(['id', 'seq']).where('chain', '=', busiest.chain).orderBy('seq').execute();
    expect(rows.length).toBeGreaterThanOrEqual(4);
    const [altered, deleted, last] = [rows[1]!, rows[2]!, rows.at(-1)!];

    await behindTheBack(sql`update audit_log set outcome = 'success', details = '{"attempt": 0}' where id = ${altered.id}`);
    let report = await verifyAuditChains(db);
    expect(report.ok).toBe(false);
    expect(report.chains.find((c) => c.chain === busiest.chain)!.problems).toEqual([
      `entry ${altered.seq} (id ${altered.id}) was altered: its content no longer matches its hash`,
    ]);

    await behindTheBack(sql`delete from audit_log where id = ${deleted.id}`);
    await behindTheBack(sql`delete from audit_log where id = ${last.id}`);
    report = await verifyAuditChains(db);
    const problems = report.chains.find((c) => c.chain === busiest.chain)!.problems;
    expect(problems).toContain(`entries ${deleted.seq}–${deleted.seq} are missing (before id ${rows[3]!.id})`);
    expect(problems.some((p) => p.startsWith(`the chain should end at entry ${last.seq}`))).toBe(true);
    // the other chains are untouched
    expect(report.chains.filter((c) => c.chain !== busiest.chain).flatMap((c) => c.problems)).toEqual([]);
  });

  it('keeps one partition per month ahead, and retires months beyond the retention without breaking the chains', async () => {
    const partitions = async () => (await sql<{ name: string }>`
      select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid where i.inhparent = 'audit_log'::regclass order by 1`.execute(db)).rows.map((r) => r.name);
    const month = (offset: number) => {
      const d = new Date();
      const m = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + offset, 1));
      return `audit_log_y${m.getUTCFullYear()}m${String(m.getUTCMonth() + 1).padStart(2, '0')}`;
    };
    // this month's entries are in this month's partition
    const { rows } = await sql<{ partition: string }>`select distinct tableoid::regclass::text as partition from audit_log`.execute(db);
    expect(rows.map((r) => r.partition)).toEqual([month(0)]);
    expect(await partitions()).toEqual(expect.arrayContaining([month(0), month(1), month(2), month(3), 'audit_log_default']));

    // first, mend what the previous test broke: a clean database for this one
    await behindTheBack(sql`delete from audit_log`);
    await sql`update audit_chains set seq = 0, head = ''`.execute(db);
    await sql`update audit_chains set head = encode(sha256(convert_to('iam-istruzione audit chain ' || chain, 'UTF8')), 'hex')`.execute(db);
    const log = audit();
    for (let i = 0; i < 20; i++) await log.record({ actorKind: 'system', action: 'test.entry', outcome: 'success', details: { i } });
    expect((await verifyAuditChains(db)).ok).toBe(true);

    // 25 months later, with 24 kept: this month goes, the chains carry on from where it ended
    const later = new Date();
    later.setUTCMonth(later.getUTCMonth() + 25);
    const run = await createAuditPartitionJob({ db, retentionMonths: 24, now: () => later }).run();
    expect(run.retired).toContain(month(0));
    expect(await partitions()).not.toContain(month(0));
    expect(await partitions()).toEqual(expect.arrayContaining([month(25), month(28)]));
    const starts = await db.selectFrom('audit_chain_starts').selectAll().execute();
    expect(starts.reduce((n, s) => n + Number(s.seq), 0)).toBe(20);
    let report = await verifyAuditChains(db);
    expect(report.chains.flatMap((c) => c.problems)).toEqual([]);
    expect(report.chains.reduce((n, c) => n + c.entries, 0)).toBe(0);

    // new entries follow on (into the default partition here, since this month was dropped)
    for (let i = 0; i < 5; i++) await log.record({ actorKind: 'system', action: 'test.entry', outcome: 'success', details: { i } });
    report = await verifyAuditChains(db);
    expect(report.chains.flatMap((c) => c.problems)).toEqual([]);
    expect(report.chains.reduce((n, c) => n + c.entries, 0)).toBe(5);
    // a partition cannot be emptied behind the log's back either
    await expect(sql`truncate ${sql.table(month(1))}`.execute(db)).rejects.toThrow(/append-only/);
  });

  it('is checked from the command line: npm run audit -- verify', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'iam-audit-cli-'));
    const run = () => spawnSync(process.execPath, ['--import', 'tsx', 'src/audit/cli.ts', 'verify'], {
      env: { ...process.env, DATA_DIR: dataDir, DATABASE_URL: '', REDIS_URL: '', LOG_LEVEL: 'silent' },
      encoding: 'utf8',
    });
    const intact = run();
    expect(intact.stdout).toMatch(/^audit log intact: 0 entries in 16 chains/m);
    expect(intact.status).toBe(0);
    const usage = spawnSync(process.execPath, ['--import', 'tsx', 'src/audit/cli.ts'], { env: { ...process.env, DATA_DIR: dataDir }, encoding: 'utf8' });
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain('npm run audit -- verify');
  });
});
