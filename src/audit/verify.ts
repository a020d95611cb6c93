import type { Db } from '../db/index.js';
import type { AuditActorKind, AuditOutcome } from '../db/schema.js';
import { entryHash, genesis } from './chain.js';

export interface ChainReport {
  chain: number;
  entries: number;
  problems: string[];
}

/** Rows read per query while walking a chain. */
const PAGE = 5000;

/**
 * Walks every chain from its start (its first entry, or the first after the months retired
 * beyond the retention): each entry must follow the one before it (seq + 1),
 * carry its hash as prev_hash, and hash to what it says; the last must be the chain's head.
 * A row altered, deleted or slipped in is named by chain, place and id.
 */
export async function verifyAuditChains(db: Db): Promise<{ ok: boolean; chains: ChainReport[] }> {
  const heads = await db.selectFrom('audit_chains').selectAll().orderBy('chain').execute();
  // months retired beyond the retention: a chain's remaining entries start after these
  const starts = new Map((await db.selectFrom('audit_chain_starts').selectAll().execute()).map((s) => [s.chain, s]));
  const chains: ChainReport[] = [];
  for (const head of heads) {
    const report: ChainReport = { chain: head.chain, entries: 0, problems: [] };
    const start = starts.get(head.chain);
    let previous = start?.hash ?? genesis(head.chain);
    let expected = start ? Number(start.seq) + 1 : 1;
    for (let after = expected - 1; ; ) {
      const rows = await db.selectFrom('audit_log').selectAll().where('chain', '=', head.chain).where('seq', '>', String(after)).orderBy('seq').limit(PAGE).execute();
      for (const row of rows) {
        const seq = Number(row.seq);
        if (seq !== expected) report.problems.push(`entries ${expected}–${seq - 1} are missing (before id ${row.id})`);
        if (row.prev_hash !== previous) report.problems.push(`entry ${seq} (id ${row.id}) does not follow the entry before it`);
        const hash = entryHash(row.prev_hash, {
          chain: row.chain,
          seq,
          occurredAt: row.occurred_at,
          actorKind: row.actor_kind as AuditActorKind,
          actorId: row.actor_id,
          subjectId: row.subject_id,
          action: row.action,
          outcome: row.outcome as AuditOutcome,
          ip: row.ip,
          userAgent: row.user_agent,
          clientId: row.client_id,
          details: row.details,
        });
        if (hash !== row.hash) report.problems.push(`entry ${seq} (id ${row.id}) was altered: its content no longer matches its hash`);
        previous = row.hash;
        expected = seq + 1;
        report.entries += 1;
      }
      if (rows.length < PAGE) break;
      after = Number(rows.at(-1)!.seq);
    }
    if (Number(head.seq) !== expected - 1 || head.head !== previous) {
      report.problems.push(`the chain should end at entry ${head.seq}, but its entries end at ${expected - 1}${Number(head.seq) === expected - 1 ? ' with another hash' : ''}: entries were removed from its end, or added`);
    }
    chains.push(report);
  }
  return { ok: chains.every((c) => c.problems.length === 0), chains };
}

/**
 * Each chain's last place and hash, for the scheduled job's log line: copied into logs kept
 * elsewhere, they let a later verification notice even a whole chain rewritten by someone
 * holding the database's own credentials.
 */
export async function auditChainHeads(db: Db): Promise<Record<number, string>> {
  const heads = await db.selectFrom('audit_chains').selectAll().orderBy('chain').execute();
  return Object.fromEntries(heads.map((h) => [h.chain, `${h.seq}:${h.head}`]));
}
