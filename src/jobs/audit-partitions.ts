import { sql } from 'kysely';
import type { Db } from '../db/index.js';

const PARTITION_NAME = /^audit_log_y(\d{4})m(\d{2})$/;
/** Months created ahead, so an entry never waits for its partition. */
const AHEAD = 3;

export interface AuditPartitionRun {
  /** partitions that exist from this month on */
  ready: string[];
  /** months dropped this run, beyond the retention */
  retired: string[];
}

const monthStart = (year: number, month: number) => new Date(Date.UTC(year, month, 1));

/**
 * Keeps the audit log's monthly partitions (migration 0011): this month's and the next
 * three exist; months older than `retentionMonths` go, each with one DDL statement. Before a
 * month goes, each chain's last entry in it is kept in audit_chain_starts, where
 * verification then starts. Safe on several instances: partitions are created by a
 * function that checks first, and retirement runs under an advisory lock.
 */
export function createAuditPartitionJob(deps: { db: Db; retentionMonths: number; now?: () => Date }) {
  const now = deps.now ?? (() => new Date());

  return {
    async run(): Promise<AuditPartitionRun> {
      const at = now();
      const ready: string[] = [];
      for (let i = 0; i <= AHEAD; i++) {
        const month = monthStart(at.getUTCFullYear(), at.getUTCMonth() + i).toISOString().slice(0, 10);
        const { rows } = await sql<{ name: string }>`select audit_log_ensure_partition(${month}::date) as name`.execute(deps.db);
        ready.push(rows[0]!.name);
      }
      const cutoff = monthStart(at.getUTCFullYear(), at.getUTCMonth() - deps.retentionMonths);
      const retired = await deps.db.transaction().execute(async (trx) => {
        await sql`select pg_advisory_xact_lock(hashtext('iam:audit_partitions'))`.execute(trx);
        const { rows } = await sql<{ name: string }>`
          select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
          where i.inhparent = 'audit_log'::regclass order by c.relname`.execute(trx);
        const old = rows.map((r) => r.name).filter((name) => {
          const m = PARTITION_NAME.exec(name);
          return m !== null && monthStart(Number(m[1]), Number(m[2]) - 1).getTime() < cutoff.getTime();
        });
        for (const name of old) {
          // where each chain's remaining entries will start
          await sql`
            insert into audit_chain_starts (chain, seq, hash)
            select distinct on (chain) chain, seq, hash from ${sql.table(name)} order by chain, seq desc
            on conflict (chain) do update set seq = excluded.seq, hash = excluded.hash
            where audit_chain_starts.seq < excluded.seq`.execute(trx);
          await sql`alter table audit_log detach partition ${sql.table(name)}`.execute(trx);
          await sql`drop table ${sql.table(name)}`.execute(trx);
        }
        return old;
      });
      return { ready, retired };
    },
  };
}
