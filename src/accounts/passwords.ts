import { randomInt } from 'node:crypto';
import type { AuditLog } from '../audit/audit-log.js';
import type { Db } from '../db/index.js';
import type { Account } from './account.js';
import { passwordExpiresAt } from './password-expiry.js';
import type { PasswordHasher } from './password-hashing.js';
import { brokenRules, historyToCheck, policyRules, type PasswordPolicy, type PasswordRule } from './password-policy.js';
import { createAccountRepository } from './repository.js';

/** Why a password changes; kept in the audit entry. */
export type PasswordChangeReason = 'expired' | 'temporary' | 'noncompliant' | 'voluntary' | 'reset';

export interface PasswordChangeRequest {
  /** the password being replaced, as typed; omitted only where the person just typed it (a temporary one) */
  current?: string;
  next: string;
  reason: PasswordChangeReason;
  from: { ip?: string; userAgent?: string; clientId?: string };
}

export type PasswordChangeOutcome =
  | { ok: true; account: Account }
  | { ok: false; problem: 'wrong_current' }
  | { ok: false; problem: 'rules'; broken: PasswordRule[] }
  | { ok: false; problem: 'not_found' };

/** What a reset adds to a change's outcomes: the caller's claim (a link's single use) was refused. */
export type PasswordResetOutcome = PasswordChangeOutcome | { ok: false; problem: 'claim_refused' };

/** Runs inside the transaction that stores the password; false: store nothing. */
export type PasswordClaim = (trx: Db) => Promise<boolean>;

class ClaimRefused extends Error {}

/** Sets passwords: the person's own changes, and temporary passwords set for them. */
export function createPasswordService(deps: { db: Db; hasher: PasswordHasher; audit: AuditLog; policy: PasswordPolicy; now?: () => Date }) {
  const accounts = createAccountRepository(deps.db);
  const now = deps.now ?? (() => new Date());

  /** The history rule: argon2id verifications, at most one per entry the policy keeps. */
  async function reused(accountId: string, candidate: string, skipNewest: boolean): Promise<boolean> {
    const entries = historyToCheck(deps.policy, await accounts.passwordHistory(accountId), now()).slice(skipNewest ? 1 : 0);
    const matches = await Promise.all(entries.map((entry) => deps.hasher.verify(entry.hash, candidate)));
    return matches.some((m) => m.valid);
  }

  async function store(account: Account, password: string, temporary: boolean, audit: { action: string; reason: string; from: PasswordChangeRequest['from']; actor?: { kind: 'admin' | 'officer' | 'system'; id?: string } }, claim?: PasswordClaim) {
    const hash = await deps.hasher.hash(password);
    const changedAt = now();
    // a temporary password is born expired: the next sign-in goes to the change page
    const expiresAt = temporary ? changedAt : passwordExpiresAt(deps.policy, account.type, account.fiscalCode, changedAt);
    await deps.db.transaction().execute(async (trx) => {
      if (claim && !(await claim(trx))) throw new ClaimRefused();
      await createAccountRepository(trx).replacePassword(account.id, { hash, expiresAt, temporary });
      await deps.audit.record(
        {
          actorKind: audit.actor?.kind ?? 'user',
          actorId: audit.actor ? audit.actor.id : account.id,
          subjectId: account.id,
          action: audit.action,
          outcome: 'success',
          ip: audit.from.ip,
          userAgent: audit.from.userAgent,
          clientId: audit.from.clientId,
          details: { reason: audit.reason },
        },
        trx,
      );
      if (account.status === 'dormant') {
        // replacePassword brought it back (DOMAIN.md §4: a dormant account returns with a new password)
        await deps.audit.record(
          { actorKind: audit.actor?.kind ?? 'user', actorId: audit.actor ? audit.actor.id : account.id, subjectId: account.id, action: 'account.reactivated', outcome: 'success', ip: audit.from.ip, userAgent: audit.from.userAgent, details: { reason: 'new_password', previous: 'dormant' } },
          trx,
        );
      }
    });
  }

  return {
    policy: deps.policy,
    rules: () => policyRules(deps.policy),

    /**
     * A new password chosen by the person. Costs, in argon2id operations: one to check the
     * current password, one per history entry the policy keeps (the current one is skipped
     * when it was typed and differs), one to hash the new password.
     */
    async change(accountId: string, request: PasswordChangeRequest): Promise<PasswordChangeOutcome> {
      const found = await accounts.findCredentialsById(accountId);
      if (!found) return { ok: false, problem: 'not_found' };
      const { account, passwordHash } = found;
      if (request.current !== undefined && !(await deps.hasher.verify(passwordHash, request.current)).valid) {
        await deps.audit.record({ actorKind: 'user', actorId: account.id, subjectId: account.id, action: 'password.changed', outcome: 'failure', ip: request.from.ip, userAgent: request.from.userAgent, clientId: request.from.clientId, details: { reason: request.reason, problem: 'wrong_current' } });
        return { ok: false, problem: 'wrong_current' };
      }
      const broken = brokenRules(deps.policy, request.next, { owner: account, current: request.current });
      const typedCurrentDiffers = request.current !== undefined && request.current !== request.next;
      if (!broken.some((r) => r.name === 'not_current') && (await reused(account.id, request.next, typedCurrentDiffers))) {
        broken.push(policyRules(deps.policy).find((r) => r.name === 'history')!);
      }
      if (broken.length) return { ok: false, problem: 'rules', broken };
      await store(account, request.next, false, { action: 'password.changed', reason: request.reason, from: request.from });
      return { ok: true, account };
    },

    /**
     * A new password chosen through a recovery link (Password dimenticata?): the rules and the
     * history of a change, no current password (the link stands for it; the current one is
     * refused by the history rule). `claim` runs in the storing transaction, so a link used
     * twice at once stores one password. Any lock goes with the old password.
     */
    async reset(accountId: string, next: string, from: PasswordChangeRequest['from'], claim?: PasswordClaim): Promise<PasswordResetOutcome> {
      const found = await accounts.findCredentialsById(accountId);
      if (!found) return { ok: false, problem: 'not_found' };
      const { account } = found;
      const broken = brokenRules(deps.policy, next, { owner: account });
      if (await reused(account.id, next, false)) broken.push(policyRules(deps.policy).find((r) => r.name === 'history')!);
      if (broken.length) return { ok: false, problem: 'rules', broken };
      try {
        await store(account, next, false, { action: 'password.changed', reason: 'reset', from }, claim);
      } catch (error) {
        if (error instanceof ClaimRefused) return { ok: false, problem: 'claim_refused' };
        throw error;
      }
      return { ok: true, account };
    },

    /**
     * A temporary password for the account (officer or administrator reset): born expired, it
     * works for one sign-in within 72 hours, and that sign-in must set a new one. The plain
     * text is returned once, for the message that delivers it; it is never stored. `claim`
     * runs in the storing transaction (the caller's checks under lock); refused: nothing stored.
     */
    async setTemporary(
      accountId: string,
      actor: { kind: 'admin' | 'officer' | 'system'; id?: string; ip?: string; userAgent?: string },
      claim?: PasswordClaim,
    ): Promise<{ password: string } | undefined> {
      const found = await accounts.findCredentialsById(accountId);
      if (!found) return undefined;
      const password = temporaryPassword(deps.policy, found.account);
      try {
        await store(found.account, password, true, { action: 'password.temporary_set', reason: 'reset', from: { ip: actor.ip, userAgent: actor.userAgent }, actor }, claim);
      } catch (error) {
        if (error instanceof ClaimRefused) return undefined;
        throw error;
      }
      return { password };
    },
  };
}

export type PasswordService = ReturnType<typeof createPasswordService>;

// No look-alikes (0/O, 1/l/I): it is read from an e-mail and typed by hand.
const ALPHABETS = ['ABCDEFGHJKLMNPQRSTUVWXYZ', 'abcdefghijkmnopqrstuvwxyz', '23456789', '!#$%*+-?@'];

/** A random password the policy accepts: every character class, never a run or personal data. */
function temporaryPassword(policy: PasswordPolicy, owner: Account): string {
  const length = Math.max(policy.minLength, 14);
  for (;;) {
    const chars = ALPHABETS.map((a) => a[randomInt(a.length)]!);
    const all = ALPHABETS.join('');
    while (chars.length < length) chars.push(all[randomInt(all.length)]!);
    for (let i = chars.length - 1; i > 0; i--) {
      const j = randomInt(i + 1);
      [chars[i], chars[j]] = [chars[j]!, chars[i]!];
    }
    const candidate = chars.join('');
    if (brokenRules(policy, candidate, { owner }).length === 0) return candidate;
  }
}
