import { createHash } from 'node:crypto';
import type { AuditActorKind, AuditOutcome } from '../db/schema.js';

/**
 * The audit log is tamper-evident: every entry carries the hash of the entry before it in
 * its chain, and each chain's last hash is kept in audit_chains. A row altered, deleted or
 * inserted behind the application's back breaks a hash, leaves a gap in the sequence, or no
 * longer ends where the chain's head says (`npm run audit -- verify`).
 *
 * There are CHAINS chains, not one: an entry takes whichever chain no other transaction
 * holds (SELECT … FOR UPDATE SKIP LOCKED), so N instances writing a sign-in each never
 * queue on one lock, and an entry written in a transaction that rolls back takes its link
 * back with it.
 */
export const CHAINS = 16;

export interface ChainedEntry {
  chain: number;
  seq: number;
  occurredAt: Date;
  actorKind: AuditActorKind;
  actorId: string | null;
  subjectId: string | null;
  action: string;
  outcome: AuditOutcome;
  ip: string | null;
  userAgent: string | null;
  clientId: string | null;
  details: unknown;
}

/** Where each chain starts: a value anyone can recompute, different per chain. */
export function genesis(chain: number): string {
  return createHash('sha256').update(`iam-istruzione audit chain ${chain}`).digest('hex');
}

/** The hash of an entry after `previous`, over a canonical form of every column but the id. */
export function entryHash(previous: string, entry: ChainedEntry): string {
  const canonical = JSON.stringify([
    entry.chain,
    entry.seq,
    entry.occurredAt.toISOString(),
    entry.actorKind,
    entry.actorId?.toLowerCase() ?? null,
    entry.subjectId?.toLowerCase() ?? null,
    entry.action,
    entry.outcome,
    entry.ip,
    entry.userAgent,
    entry.clientId,
    sortedKeys(entry.details),
  ]);
  return createHash('sha256').update(previous).update('\n').update(canonical).digest('hex');
}

/** jsonb keeps keys in its own order: the hash sees them sorted, at every depth. */
function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((key) => [key, sortedKeys((value as Record<string, unknown>)[key])]));
  }
  return value;
}
