import type { AuditLog } from '../audit/audit-log.js';
import type { Db } from '../db/index.js';
import type { Account } from './account.js';
import type { LadderLock, LoginThrottle } from './login-throttle.js';
import { TEMPORARY_PASSWORD_LIFE_MS } from './password-expiry.js';
import type { PasswordHasher } from './password-hashing.js';
import { brokenRules, type PasswordPolicy } from './password-policy.js';
import { createAccountRepository } from './repository.js';

export interface PasswordLoginRequest {
  username: string;
  password: string;
  ip: string;
  userAgent?: string;
  clientId?: string;
  /** the id of this browser's device cookie for the typed username, when it has one */
  device?: string;
}

export type PasswordLoginOutcome =
  | { ok: true; account: Account }
  | { ok: false; reason: 'invalid_credentials' }
  /** the right temporary password, past its 72 hours or already used once */
  | { ok: false; reason: 'temporary_expired' | 'temporary_used' }
  | { ok: false; reason: 'throttled'; retryAfterSeconds: number; /** locked until the owner follows the e-mailed unlock link */ unlockRequired: boolean };

export interface PasswordAuthenticator {
  authenticate(request: PasswordLoginRequest): Promise<PasswordLoginOutcome>;
}

const ACTIVITY_RESOLUTION_MS = 12 * 60 * 60 * 1000;

/**
 * The password login method. Unknown username and wrong password are one outcome,
 * spend the same argon2 time and count against the same throttle.
 */
export function createPasswordAuthenticator(deps: {
  db: Db;
  hasher: PasswordHasher;
  throttle: LoginThrottle;
  audit: AuditLog;
  policy: PasswordPolicy;
  /** tells the owner of a real account that it was locked (a message after the response) */
  notifyLock?: (account: Account, lock: LadderLock) => void;
  /** tells the owner of a sign-in, when they asked for it (a message after the response) */
  notifySignIn?: (account: Account, signIn: { at: Date; ip: string; userAgent?: string; clientId?: string }) => void;
  now?: () => Date;
}): PasswordAuthenticator {
  const now = deps.now ?? (() => new Date());
  const accounts = createAccountRepository(deps.db);

  /**
   * Inactivity starts over (DOMAIN.md §4). It is counted in months, so an account signed in
   * within the last hours is not written again; one with an inactivity deadline always is.
   * An account made dormant since it was read comes back dormant, for the gate to explain.
   */
  async function recordActivity(account: Account): Promise<Account> {
    if (account.status !== 'active') return account;
    const at = now();
    if (!account.inactivityDeadline && at.getTime() - account.lastActiveAt.getTime() < ACTIVITY_RESOLUTION_MS) return account;
    return (await accounts.recordActivity(account.id, at)) ?? (await accounts.findById(account.id)) ?? account;
  }

  return {
    async authenticate(request) {
      const attempt = { username: request.username, ip: request.ip, device: request.device };
      const auditBase = { ip: request.ip, userAgent: request.userAgent, clientId: request.clientId, action: 'login.password' };
      // the attempt's point is taken before any argon2 work, and given back only on success
      const ticket = await deps.throttle.take(attempt);
      if (!ticket.allowed) {
        await deps.audit.record({ ...auditBase, actorKind: 'anonymous', outcome: 'refused', details: { reason: 'throttled', scope: ticket.scope, ...(ticket.unlockRequired ? { unlockRequired: true } : {}) } });
        return { ok: false, reason: 'throttled', retryAfterSeconds: ticket.retryAfterSeconds, unlockRequired: ticket.unlockRequired };
      }

      const found = await accounts.findCredentialsByUsername(request.username);
      if (!found) {
        await deps.hasher.verifyAgainstNothing(request.password);
        await deps.audit.record({ ...auditBase, actorKind: 'anonymous', outcome: 'failure', details: { reason: 'unknown_username' } });
        // an unknown username climbs the same ladder: its answers give nothing away
        if (ticket.lockIfWrong) await deps.throttle.lock(attempt);
        return { ok: false, reason: 'invalid_credentials' };
      }

      const { account, passwordHash } = found;
      const { valid, needsRehash } = await deps.hasher.verify(passwordHash, request.password);
      if (!valid) {
        await deps.audit.record({ ...auditBase, actorKind: 'anonymous', subjectId: account.id, outcome: 'failure', details: { reason: 'wrong_password' } });
        if (ticket.lockIfWrong) {
          // locked for browsers the account does not know; its own browsers still sign in
          const lock = await deps.throttle.lock(attempt);
          await deps.audit.record({ ...auditBase, action: 'account.locked', actorKind: 'system', subjectId: account.id, outcome: 'success', details: { level: lock.level, until: lock.until.toISOString() } });
          deps.notifyLock?.(account, lock);
        }
        return { ok: false, reason: 'invalid_credentials' };
      }

      await deps.throttle.succeeded(attempt);
      if (account.passwordTemporary) {
        const refusal = now().getTime() - account.passwordChangedAt.getTime() > TEMPORARY_PASSWORD_LIFE_MS
          ? 'temporary_expired'
          : (await accounts.useTemporaryPassword(account.id)) ? undefined : 'temporary_used';
        if (refusal) {
          await deps.audit.record({ ...auditBase, actorKind: 'user', actorId: account.id, subjectId: account.id, outcome: 'refused', details: { reason: refusal } });
          return { ok: false, reason: refusal };
        }
      }
      const signedIn = await recordActivity(account);
      // checked on the typed password, so a stricter policy reaches everyone at their next sign-in
      const noncompliant = brokenRules(deps.policy, request.password, { owner: account }).length > 0;
      if (noncompliant !== account.passwordNoncompliant) await accounts.setPasswordNoncompliant(account.id, noncompliant);
      if (needsRehash) {
        await accounts.replaceHashForSamePassword(account.id, passwordHash, await deps.hasher.hash(request.password));
      }
      // the audit entry is the record of the sign-in: recent activity is read from it
      await deps.audit.record({ ...auditBase, actorKind: 'user', actorId: account.id, subjectId: account.id, outcome: 'success', details: { rehashed: needsRehash } });
      if (signedIn.signInNotice) deps.notifySignIn?.(signedIn, { at: now(), ip: request.ip, userAgent: request.userAgent, clientId: request.clientId });
      return { ok: true, account: { ...signedIn, passwordNoncompliant: noncompliant } };
    },
  };
}
