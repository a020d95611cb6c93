import { randomInt } from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from '../db/index.js';
import type { AuditActorKind, AuditOutcome } from '../db/schema.js';
import { CHAINS, entryHash, type ChainedEntry } from './chain.js';

export interface AuditEntry {
  actorKind: AuditActorKind;
  actorId?: string | null;
  subjectId?: string | null;
  action: string;
  outcome: AuditOutcome;
  ip?: string | null;
  userAgent?: string | null;
  clientId?: string | null;
  /** Never secrets: no password, code or token goes here. */
  details?: Record<string, unknown>;
}

/** An admin API client acting for an administration tool, as an entry's details name it. */
export const apiClientDetail = (actor: { client?: string }): { apiClient?: string } => (actor.client ? { apiClient: actor.client } : {});

export interface AuditLog {
  record(entry: AuditEntry, executor?: Db): Promise<void>;
}

/**
 * The append-only, tamper-evident audit trail: the table refuses UPDATE, DELETE and
 * TRUNCATE, and every entry is linked into one of the hash chains (audit/chain.ts). The
 * link is taken in the caller's transaction when given one, so an entry rolled back takes
 * it back too; otherwise in a transaction of its own.
 */
export function createAuditLog(db: Db): AuditLog {
  async function append(trx: Db, entry: AuditEntry): Promise<void> {
    // a chain no other transaction holds; only when all are held, wait for one
    const free = await sql<{ chain: number; seq: string; head: string }>`
      select chain, seq, head from audit_chains order by random() limit 1 for update skip locked`.execute(trx);
    const link = free.rows[0] ?? (await sql<{ chain: number; seq: string; head: string }>`
      select chain, seq, head from audit_chains where chain = ${randomInt(CHAINS)} for update`.execute(trx)).rows[0];
    if (!link) throw new Error('audit_chains is empty: the audit chain migration has not run');
    const chained: ChainedEntry = {
      chain: Number(link.chain),
      seq: Number(link.seq) + 1,
      occurredAt: new Date(),
      actorKind: entry.actorKind,
      actorId: entry.actorId?.toLowerCase() ?? null,
      subjectId: entry.subjectId?.toLowerCase() ?? null,
      action: entry.action,
      outcome: entry.outcome,
      ip: entry.ip ?? null,
      userAgent: entry.userAgent?.slice(0, 512) ?? null,
      clientId: entry.clientId ?? null,
      // as jsonb will give it back: Dates as strings, undefined gone
      details: JSON.parse(JSON.stringify(entry.details ?? {})) as unknown,
    };
    const hash = entryHash(link.head, chained);
    await trx
      .insertInto('audit_log')
      .values({
        occurred_at: chained.occurredAt,
        actor_kind: chained.actorKind,
        actor_id: chained.actorId,
        subject_id: chained.subjectId,
        action: chained.action,
        outcome: chained.outcome,
        ip: chained.ip,
        user_agent: chained.userAgent,
        client_id: chained.clientId,
        details: JSON.stringify(chained.details),
        chain: chained.chain,
        seq: chained.seq,
        prev_hash: link.head,
        hash,
      })
      .execute();
    await trx.updateTable('audit_chains').set({ seq: chained.seq, head: hash }).where('chain', '=', chained.chain).execute();
  }

  return {
    async record(entry, executor = db) {
      if (executor.isTransaction) await append(executor, entry);
      else await executor.transaction().execute((trx) => append(trx, entry));
    },
  };
}
