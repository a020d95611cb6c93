import type { Db } from '../db/index.js';
import type { AuditActorKind, AuditOutcome } from '../db/schema.js';

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

export interface AuditLog {
  record(entry: AuditEntry, executor?: Db): Promise<void>;
}

/** The append-only audit trail (the table refuses UPDATE, DELETE and TRUNCATE). */
export function createAuditLog(db: Db): AuditLog {
  return {
    async record(entry, executor = db) {
      await executor
        .insertInto('audit_log')
        .values({
          actor_kind: entry.actorKind,
          actor_id: entry.actorId ?? null,
          subject_id: entry.subjectId ?? null,
          action: entry.action,
          outcome: entry.outcome,
          ip: entry.ip ?? null,
          user_agent: entry.userAgent?.slice(0, 512) ?? null,
          client_id: entry.clientId ?? null,
          details: JSON.stringify(entry.details ?? {}),
        })
        .execute();
    },
  };
}
