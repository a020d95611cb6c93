import type Provider from 'oidc-provider';
import type { PasswordChangeOutcome, PasswordService } from '../accounts/passwords.js';
import { createAccountRepository } from '../accounts/repository.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Db } from '../db/index.js';
import type { Logger } from '../logger.js';
import type { AccessRevocation, RevokeAccountAccess } from '../provider/account-revocation.js';
import type { SignedIn } from '../provider/sso-session.js';

export type OwnPasswordOutcome = PasswordChangeOutcome & { ended?: AccessRevocation };

/**
 * A password changed by its owner in the Area riservata (issue 15, item 3). With
 * `signOutOthers`, every other SSO session ends and every grant of the account is revoked
 * (refresh tokens included; the services of the ended sessions told by back-channel
 * logout), while this browser stays signed in: its session is stamped as signed in now
 * before the account's sessions are declared ended, so it is the one that survives.
 */
export function createOwnPasswordChange(deps: { db: Db; passwords: PasswordService; provider: Provider; revokeAccess: RevokeAccountAccess; audit: AuditLog; logger: Logger; now?: () => Date }) {
  const now = deps.now ?? (() => new Date());
  return async function changeOwnPassword(
    person: SignedIn,
    input: { current: string; next: string },
    options: { signOutOthers: boolean },
    from: { ip: string; userAgent?: string },
  ): Promise<OwnPasswordOutcome> {
    const outcome = await deps.passwords.change(person.account.id, { current: input.current, next: input.next, reason: 'voluntary', from });
    if (!outcome.ok || !options.signOutOthers) return outcome;

    const at = now();
    const session = await deps.provider.Session.find(person.session.id);
    if (session) {
      session.loginTs = Math.ceil(at.getTime() / 1000);
      await session.save(Math.max(60, (session.exp ?? 0) - Math.floor(at.getTime() / 1000)));
    }
    await createAccountRepository(deps.db).revokeSessionsBefore(person.account.id, at);
    const ended = await deps.revokeAccess(person.account.id, { keepSession: person.session.id }).catch((error: unknown) => {
      // the other sessions already stopped counting (revokeSessionsBefore above)
      deps.logger.error({ err: error, accountId: person.account.id }, 'revocation after a password change failed');
      return undefined;
    });
    await deps.audit.record({
      actorKind: 'user',
      actorId: person.account.id,
      subjectId: person.account.id,
      action: 'account.other_sessions_ended',
      outcome: ended ? 'success' : 'failure',
      ip: from.ip,
      userAgent: from.userAgent,
      details: { reason: 'password_changed', ...(ended ? { sessions: ended.sessions, grants: ended.grants } : {}) },
    });
    return { ...outcome, ended };
  };
}

export type ChangeOwnPassword = ReturnType<typeof createOwnPasswordChange>;
