import type { AuditLog } from '../audit/audit-log.js';
import type { Db } from '../db/index.js';
import type { AccountStatus } from './account.js';
import { createAccountRepository } from './repository.js';

/** Who changes the status, and from where (for the audit entry). */
export interface StatusActor {
  kind: 'admin' | 'officer' | 'system';
  id?: string;
  ip?: string;
  userAgent?: string;
  /** why, in the actor's words; kept in the audit entry */
  reason?: string;
}

export type StatusChangeOutcome<Revocation> =
  | { ok: true; previous: AccountStatus; status: AccountStatus; revocation?: Revocation }
  | { ok: false; reason: 'not_found' };

/**
 * Suspends and reactivates accounts. The status and its audit entry are written in one
 * transaction; after the commit a suspension takes away whatever the account still holds
 * through `revokeAccess` (at the provider: sessions, grants and tokens), which this module
 * knows only as a function, keeping accounts/ free of oidc-provider.
 *
 * Order matters: once the status is committed, nothing new can be issued to the account
 * (findAccount refuses it outside sign-in, the account_state gate stops sign-in), so what the
 * revocation finds is all there is. Both operations can be repeated: suspending a suspended
 * account revokes again, which is how a revocation cut short (Redis unreachable) is retried.
 */
export function createAccountStatusService<Revocation>(deps: {
  db: Db;
  audit: AuditLog;
  revokeAccess: (accountId: string) => Promise<Revocation>;
}) {
  async function change(accountId: string, status: 'active' | 'suspended', actor: StatusActor) {
    return deps.db.transaction().execute(async (trx) => {
      const accounts = createAccountRepository(trx);
      const account = await accounts.findById(accountId);
      if (!account) return undefined;
      await accounts.setStatus(account.id, status);
      if (status === 'suspended') await accounts.revokeSessionsBefore(account.id, new Date());
      await deps.audit.record(
        {
          actorKind: actor.kind,
          actorId: actor.id,
          subjectId: account.id,
          action: status === 'suspended' ? 'account.suspended' : 'account.reactivated',
          outcome: 'success',
          ip: actor.ip,
          userAgent: actor.userAgent,
          details: { previous: account.status, ...(actor.reason ? { reason: actor.reason } : {}) },
        },
        trx,
      );
      return account.status;
    });
  }

  return {
    async suspend(accountId: string, actor: StatusActor): Promise<StatusChangeOutcome<Revocation>> {
      const previous = await change(accountId, 'suspended', actor);
      if (previous === undefined) return { ok: false, reason: 'not_found' };
      const revocation = await deps.revokeAccess(accountId);
      return { ok: true, previous, status: 'suspended', revocation };
    },

    async reactivate(accountId: string, actor: StatusActor): Promise<StatusChangeOutcome<Revocation>> {
      const previous = await change(accountId, 'active', actor);
      if (previous === undefined) return { ok: false, reason: 'not_found' };
      return { ok: true, previous, status: 'active' };
    },
  };
}

export type AccountStatusService<Revocation = unknown> = ReturnType<typeof createAccountStatusService<Revocation>>;
