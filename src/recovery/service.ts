import { referenceEmail, type Account } from '../accounts/account.js';
import type { LoginThrottle } from '../accounts/login-throttle.js';
import type { PasswordRule } from '../accounts/password-policy.js';
import type { PasswordService } from '../accounts/passwords.js';
import { createAccountRepository } from '../accounts/repository.js';
import { isMiUsername, normalizeUsername } from '../accounts/username.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Db } from '../db/index.js';
import type { Logger } from '../logger.js';
import type { LadderLock } from '../accounts/login-throttle.js';
import { accountLockedMail, accountLockedMiMail, accountUnlockMail, passwordResetDoneMail, passwordResetMail, usernameReminderMail } from '../mail/messages.js';
import type { OutgoingMailQueue } from '../mail/outgoing.js';
import type { RecoveryThrottle } from './throttle.js';
import { createRecoveryTokenRepository, hashRecoveryToken, newRecoveryToken, RECOVERY_TOKEN_PATTERN } from './tokens.js';

/** DOMAIN.md §6: a link lives 30 minutes. */
export const RECOVERY_LINK_MINUTES = 30;
/** Spent and expired links are kept this long, to answer "already used" rather than "unknown". */
const KEEP_SPENT_MS = 7 * 24 * 60 * 60 * 1000;

export interface RequestOrigin {
  ip: string;
  userAgent?: string;
  /** for the logs of the deferred mail */
  requestId?: string;
}

/**
 * The answer to a request. `accepted` is the same whether or not the data matched an
 * account: the page cannot tell, so nobody can find out who has an account here.
 */
export type RecoveryRequestOutcome =
  | { outcome: 'accepted' }
  /** an MI-shaped username: those accounts are reset through SIDI (the shape is public) */
  | { outcome: 'mi_account' }
  | { outcome: 'throttled'; retryAfterSeconds: number };

/** Why a link does not open the form. */
export type LinkProblem = 'invalid' | 'expired' | 'used' | 'retired' | 'unavailable';

export type LinkCheck =
  | { ok: true; username: string }
  | { ok: false; problem: LinkProblem };

export type ResetOutcome =
  | { ok: true; username: string }
  | { ok: false; problem: LinkProblem }
  | { ok: false; problem: 'rules'; broken: PasswordRule[] };

/**
 * Password dimenticata? and Username dimenticato? (DOMAIN.md §6). State diagram of a link:
 *
 *   requested ──(30 min)──▶ expired
 *       │ └──(password changed another way, or another link completed)──▶ retired
 *       └──(new password accepted: one atomic claim)──▶ used
 *
 * Only standard, active accounts get a link. A suspended account gets none: suspension is
 * the administration's decision and a reset must not undo it (the person is told, at the
 * login, to contact the help desk). A locked account does: the reset clears the lock.
 */
export function createRecoveryService(deps: {
  db: Db;
  audit: AuditLog;
  passwords: PasswordService;
  mail: OutgoingMailQueue;
  throttle: RecoveryThrottle;
  loginThrottle: LoginThrottle;
  /** ends every session, grant and token of the account at the provider */
  revokeAccess: (accountId: string) => Promise<unknown>;
  /** links are built on it, never on the request's Host */
  issuer: string;
  logger: Logger;
  now?: () => Date;
}) {
  const now = deps.now ?? (() => new Date());
  const accounts = createAccountRepository(deps.db);
  const log = deps.logger.child({ component: 'recovery' });

  const auditRequest = (action: string, from: RequestOrigin, outcome: 'success' | 'failure' | 'refused', reason: string, account?: Account, executor?: Db) =>
    deps.audit.record(
      { actorKind: 'anonymous', subjectId: account?.id ?? null, action, outcome, ip: from.ip, userAgent: from.userAgent, details: { reason } },
      executor,
    );

  /** Why this account gets no link; undefined when it does. */
  function refusal(account: Account): string | undefined {
    if (account.type !== 'standard') return 'mi_account';
    if (account.status === 'suspended') return 'suspended';
    if (!referenceEmail(account)) return 'no_email';
    return undefined;
  }

  async function checkLink(token: string): Promise<{ ok: true; tokenId: string; account: Account } | { ok: false; problem: LinkProblem }> {
    if (!RECOVERY_TOKEN_PATTERN.test(token)) return { ok: false, problem: 'invalid' };
    const record = await createRecoveryTokenRepository(deps.db).findByHash(hashRecoveryToken(token));
    if (!record) return { ok: false, problem: 'invalid' };
    if (record.usedAt) return { ok: false, problem: 'used' };
    if (record.retiredAt) return { ok: false, problem: 'retired' };
    if (record.expiresAt.getTime() <= now().getTime()) return { ok: false, problem: 'expired' };
    const account = await accounts.findById(record.accountId);
    if (!account || account.type !== 'standard' || account.status === 'suspended') return { ok: false, problem: 'unavailable' };
    return { ok: true, tokenId: record.id, account };
  }

  return {
    linkMinutes: RECOVERY_LINK_MINUTES,

    /**
     * Username + codice fiscale → a link to the reference e-mail, when they name an active
     * standard account. Hit and miss do the same work on the way to the answer (a throttle
     * point, a token drawn and hashed, one lookup, one transaction with the audit entry); the
     * message is rendered and sent after the answer.
     */
    async requestPasswordReset(input: { username: string; fiscalCode: string }, from: RequestOrigin): Promise<RecoveryRequestOutcome> {
      const username = normalizeUsername(input.username);
      if (isMiUsername(username)) {
        const mi = await accounts.findCredentialsByUsername(username);
        await auditRequest('recovery.password_requested', from, 'refused', 'mi_username', mi?.account);
        return { outcome: 'mi_account' };
      }
      const ticket = await deps.throttle.take({ ip: from.ip, subjects: [`u:${username.toLowerCase()}`, `cf:${input.fiscalCode}`] });
      if (!ticket.allowed) {
        await auditRequest('recovery.password_requested', from, 'refused', 'throttled');
        return { outcome: 'throttled', retryAfterSeconds: ticket.retryAfterSeconds };
      }

      const { token, hash } = newRecoveryToken();
      const found = (await accounts.findCredentialsByUsername(username))?.account;
      const refused = !found ? 'no_match' : found.fiscalCode !== input.fiscalCode ? 'fiscal_code_mismatch' : refusal(found);
      const account = refused ? undefined : found;
      const createdAt = now();
      const expiresAt = new Date(createdAt.getTime() + RECOVERY_LINK_MINUTES * 60_000);

      await deps.db.transaction().execute(async (trx) => {
        const tokens = createRecoveryTokenRepository(trx);
        // a miss clears nothing but costs the same statement
        await tokens.deleteExpiredBefore(account?.id ?? NO_ACCOUNT, new Date(createdAt.getTime() - KEEP_SPENT_MS));
        if (account) await tokens.insert({ accountId: account.id, hash, createdAt, expiresAt });
        const outcome = !refused ? 'success' : refused === 'no_match' || refused === 'fiscal_code_mismatch' ? 'failure' : 'refused';
        await auditRequest('recovery.password_requested', from, outcome, refused ?? 'link_sent', found, trx);
      });
      if (account) {
        const url = `${deps.issuer}/recupero/password/nuova?token=${token}`;
        deps.mail.send(referenceEmail(account)!.address, passwordResetMail(account, { url, minutes: RECOVERY_LINK_MINUTES }), { template: 'password_reset', requestId: from.requestId });
      }
      return { outcome: 'accepted' };
    },

    /** Whether the link opens the form (it is not spent by looking). */
    async inspectLink(token: string): Promise<LinkCheck> {
      const check = await checkLink(token);
      return check.ok ? { ok: true, username: check.account.username } : check;
    },

    /**
     * The new password, through the link. The link is claimed in the transaction that stores
     * the password, so of two submissions at once one stores and the other finds it used.
     * Then every session and token the account holds is ended, the sign-in throttle forgets
     * the username, and the owner is told by e-mail.
     */
    async completeReset(token: string, next: string, from: RequestOrigin): Promise<ResetOutcome> {
      const check = await checkLink(token);
      if (!check.ok) return check;
      const { account, tokenId } = check;
      const at = now();
      const outcome = await deps.passwords.reset(account.id, next, { ip: from.ip, userAgent: from.userAgent }, async (trx) => {
        if (!(await createRecoveryTokenRepository(trx).claim(tokenId, account.id, at))) return false;
        await createAccountRepository(trx).revokeSessionsBefore(account.id, at);
        await deps.audit.record(
          { actorKind: 'user', actorId: account.id, subjectId: account.id, action: 'recovery.password_completed', outcome: 'success', ip: from.ip, userAgent: from.userAgent, details: { link: tokenId } },
          trx,
        );
        return true;
      });
      if (!outcome.ok) {
        if (outcome.problem === 'rules') return { ok: false, problem: 'rules', broken: outcome.broken };
        if (outcome.problem === 'claim_refused') {
          const again = await checkLink(token);
          return { ok: false, problem: again.ok ? 'used' : again.problem };
        }
        return { ok: false, problem: 'unavailable' };
      }

      try {
        await deps.revokeAccess(account.id);
      } catch (error) {
        // the SSO sessions already stopped counting (revokeSessionsBefore, committed above)
        log.error({ err: error, accountId: account.id }, 'revocation after a password reset failed');
        await deps.audit.record({ actorKind: 'system', subjectId: account.id, action: 'account.access_revoked', outcome: 'failure', details: { reason: 'reset' } }).catch(() => undefined);
      }
      await deps.loginThrottle.succeeded({ username: account.username, ip: from.ip }).catch((error: unknown) => log.warn({ err: error }, 'sign-in counters not reset'));
      const to = referenceEmail(account);
      if (to) deps.mail.send(to.address, passwordResetDoneMail(account, at), { template: 'password_reset_done', requestId: from.requestId });
      return { ok: true, username: account.username };
    },

    /**
     * The lockout ladder reached a rung (DOMAIN.md §4): the owner is told. On the first, when
     * the lock ends; on the second, a single-use link valid as long as the lock (3 days) that
     * sets a new password and so unlocks it. MI accounts get no link: their officer resets.
     */
    async sendLockNotice(account: Account, lock: LadderLock): Promise<void> {
      const to = referenceEmail(account);
      if (!to) return;
      if (lock.level === 1) {
        deps.mail.send(to.address, accountLockedMail(account, { until: lock.until, failures: 5 }), { template: 'account_locked' });
        return;
      }
      if (account.type !== 'standard') {
        deps.mail.send(to.address, accountLockedMiMail(account, lock), { template: 'account_locked_mi' });
        return;
      }
      const { token, hash } = newRecoveryToken();
      await createRecoveryTokenRepository(deps.db).insert({ accountId: account.id, hash, createdAt: now(), expiresAt: lock.until, purpose: 'unlock' });
      const url = `${deps.issuer}/recupero/password/nuova?token=${token}`;
      deps.mail.send(to.address, accountUnlockMail(account, { url, until: lock.until }), { template: 'account_unlock' });
    },

    /**
     * Codice fiscale + an e-mail address of the account (personal or institutional) → the
     * username to the reference e-mail. Same answer and work whether or not they matched.
     */
    async requestUsername(input: { fiscalCode: string; email: string }, from: RequestOrigin): Promise<RecoveryRequestOutcome> {
      const ticket = await deps.throttle.take({ ip: from.ip, subjects: [`cf:${input.fiscalCode}`] });
      if (!ticket.allowed) {
        await auditRequest('recovery.username_requested', from, 'refused', 'throttled');
        return { outcome: 'throttled', retryAfterSeconds: ticket.retryAfterSeconds };
      }
      const found = await accounts.findByFiscalCode(input.fiscalCode);
      const typed = input.email.toLowerCase();
      const account = found && [found.personalEmail, found.institutionalEmail].some((e) => e?.toLowerCase() === typed) ? found : undefined;
      const to = account && referenceEmail(account);
      await auditRequest('recovery.username_requested', from, to ? 'success' : 'failure', to ? 'username_sent' : account ? 'no_email' : 'no_match', account);
      if (account && to) deps.mail.send(to.address, usernameReminderMail(account), { template: 'username_reminder', requestId: from.requestId });
      return { outcome: 'accepted' };
    },
  };
}

export type RecoveryService = ReturnType<typeof createRecoveryService>;

const NO_ACCOUNT = '00000000-0000-0000-0000-000000000000';
