import type { Db } from '../db/index.js';
import type { AuditOutcome } from '../db/schema.js';

export const ACTIVITY_SHOWN = 30;

export interface SignInRecord {
  at: Date;
  clientId: string | null;
  ip: string | null;
  outcome: AuditOutcome;
  /** why it failed or was refused (wrong_password, temporary_expired, …) */
  reason: string | null;
}

/**
 * The person's recent sign-ins and failed attempts (issue 15, item 7), read from the audit
 * log: the entry of each password check is the record of the sign-in.
 */
export function createActivityReader(db: Db) {
  return {
    async recentSignIns(accountId: string): Promise<SignInRecord[]> {
      const rows = await db
        .selectFrom('audit_log')
        .select(['occurred_at', 'client_id', 'ip', 'outcome', 'details'])
        .where('subject_id', '=', accountId)
        .where('action', '=', 'login.password')
        .orderBy('id', 'desc')
        .limit(ACTIVITY_SHOWN)
        .execute();
      return rows.map((r) => ({
        at: r.occurred_at,
        clientId: r.client_id,
        ip: r.ip,
        outcome: r.outcome,
        reason: typeof r.details.reason === 'string' ? r.details.reason : null,
      }));
    },
  };
}

export type ActivityReader = ReturnType<typeof createActivityReader>;
