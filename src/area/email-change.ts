import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { referenceEmail, type Account } from '../accounts/account.js';
import { createAccountRepository } from '../accounts/repository.js';
import { createEmailChangeRepository } from './email-change-repository.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Db } from '../db/index.js';
import type { OutgoingMailQueue } from '../mail/outgoing.js';
import type { RecoveryLimits, RecoveryThrottle } from '../recovery/throttle.js';
import { emailChangeCodeMail, emailChangedNoticeMail } from './mail.js';

/** The code: 15 minutes, five tries, a new one at most every minute (and the throttle's hourly bound). */
export const EMAIL_CODE_MINUTES = 15;
export const EMAIL_CODE_MAX_TRIES = 5;
export const EMAIL_CODE_RESEND_SECONDS = 60;
/** Codes sent per hour: from one address (network), to one account, to one mailbox. */
export const EMAIL_CHANGE_LIMITS: RecoveryLimits = {
  perIp: { requests: 20, windowSeconds: 60 * 60 },
  perSubject: { requests: 5, windowSeconds: 60 * 60 },
};

/** A personal address: not an institutional one (those are set by the administration). */
export const personalEmail = z.string().trim().toLowerCase().pipe(z.email().max(254))
  .refine((e) => !/@(posta\.)?istruzione\.it$/.test(e), 'institutional');

export interface PendingEmailChange { newEmail: string; expiresAt: Date; triesLeft: number }

type From = { ip: string; userAgent?: string };
export type EmailChangeRequest = { ok: true } | { ok: false; problem: 'same_address' | 'too_soon' | 'throttled'; retryAfterSeconds?: number };
export type EmailCodeCheck =
  | { ok: true; account: Account; previous: string | null }
  | { ok: false; problem: 'missing' | 'expired' | 'exhausted' }
  | { ok: false; problem: 'wrong'; triesLeft: number };

/**
 * Changing the personal e-mail (DOMAIN.md §3, issue 15 item 2): a six-digit code goes to the
 * new address, and only the code proves the address is the person's. Then the address is
 * stored as verified, the old one is told, and the audit names both. The reference e-mail
 * follows by its rule (the institutional mailbox wins when there is one).
 *
 * Each try is taken from the row before the code is compared (one UPDATE … WHERE tries < 5),
 * so a burst of guesses gets five tries in all; the change itself deletes the row it matched,
 * so two right answers at once change the address once.
 */
export function createEmailChange(deps: { db: Db; audit: AuditLog; mail: OutgoingMailQueue; throttle: RecoveryThrottle; now?: () => Date }) {
  const now = deps.now ?? (() => new Date());
  const changes = createEmailChangeRepository(deps.db);
  const hash = (accountId: string, code: string) => createHash('sha256').update(`${accountId}:email:${code}`, 'utf8').digest('hex');

  async function auditEvent(account: Pick<Account, 'id'>, action: string, outcome: 'success' | 'failure', from: From, details: Record<string, unknown>, trx: Db = deps.db) {
    await deps.audit.record({ actorKind: 'user', actorId: account.id, subjectId: account.id, action, outcome, ip: from.ip, userAgent: from.userAgent, details }, trx);
  }

  return {
    async pending(accountId: string): Promise<PendingEmailChange | undefined> {
      const row = await changes.find(accountId);
      if (!row || row.expiresAt <= now()) return undefined;
      return { newEmail: row.newEmail, expiresAt: row.expiresAt, triesLeft: Math.max(0, EMAIL_CODE_MAX_TRIES - row.tries) };
    },

    /** A code to the new address (a new request replaces the one pending). */
    async request(account: Account, newEmail: string, from: From): Promise<EmailChangeRequest> {
      if (newEmail === account.personalEmail?.toLowerCase()) return { ok: false, problem: 'same_address' };
      const previous = await changes.find(account.id);
      const wait = previous ? Math.ceil((previous.sentAt.getTime() + EMAIL_CODE_RESEND_SECONDS * 1000 - now().getTime()) / 1000) : 0;
      if (wait > 0) return { ok: false, problem: 'too_soon', retryAfterSeconds: wait };
      const ticket = await deps.throttle.take({ ip: from.ip, subjects: [`account:${account.id}`, `email:${newEmail}`] });
      if (!ticket.allowed) return { ok: false, problem: 'throttled', retryAfterSeconds: ticket.retryAfterSeconds };
      const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
      const at = now();
      await changes.replace(account.id, { newEmail, codeHash: hash(account.id, code), sentAt: at, expiresAt: new Date(at.getTime() + EMAIL_CODE_MINUTES * 60_000) });
      deps.mail.send(newEmail, emailChangeCodeMail(account, { code, minutes: EMAIL_CODE_MINUTES }), { template: 'email_change_code' });
      await auditEvent(account, 'account.email_change_requested', 'success', from, { new_email: newEmail });
      return { ok: true };
    },

    async confirm(account: Account, code: string, from: From): Promise<EmailCodeCheck> {
      const at = now();
      const claimed = await changes.takeTry(account.id, EMAIL_CODE_MAX_TRIES, at);
      if (!claimed) {
        const row = await changes.find(account.id);
        if (!row) return { ok: false, problem: 'missing' };
        return { ok: false, problem: row.expiresAt <= at ? 'expired' : 'exhausted' };
      }
      const right = /^\d{6}$/.test(code) && timingSafeEqual(Buffer.from(claimed.codeHash, 'hex'), Buffer.from(hash(account.id, code), 'hex'));
      if (!right) {
        await auditEvent(account, 'account.email_changed', 'failure', from, { reason: 'wrong_code', tries: claimed.tries });
        const triesLeft = EMAIL_CODE_MAX_TRIES - claimed.tries;
        return triesLeft > 0 ? { ok: false, problem: 'wrong', triesLeft } : { ok: false, problem: 'exhausted' };
      }
      const changed = await deps.db.transaction().execute(async (trx) => {
        const newEmail = await createEmailChangeRepository(trx).take(account.id, claimed.codeHash);
        if (!newEmail) return undefined;
        const accounts = createAccountRepository(trx);
        const before = await accounts.findForUpdate(account.id);
        if (!before) return undefined;
        const after = await accounts.setPersonalEmail(account.id, newEmail);
        await auditEvent(account, 'account.email_changed', 'success', from, { before: before.personalEmail, after: newEmail }, trx);
        return { account: after, previous: before.personalEmail };
      });
      if (!changed) return { ok: false, problem: 'missing' };
      // the old address hears of it (it may be the only one the owner still reads); and the
      // reference mailbox too, when that is another one (the institutional)
      const reference = referenceEmail(changed.account)?.address;
      const told = new Set([changed.previous, reference].filter((a): a is string => Boolean(a) && a !== changed.account.personalEmail));
      for (const address of told) deps.mail.send(address, emailChangedNoticeMail(changed.account, { at, newEmail: changed.account.personalEmail! }), { template: 'email_changed_notice' });
      return { ok: true, ...changed };
    },
  };
}

export type EmailChange = ReturnType<typeof createEmailChange>;
