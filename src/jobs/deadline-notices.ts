import type { ExpressionBuilder } from 'kysely';
import { accountFromRow, referenceEmail, type Account } from '../accounts/account.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Db } from '../db/index.js';
import type { Database } from '../db/schema.js';
import type { Logger } from '../logger.js';
import type { Mailer } from '../mail/transport.js';
import type { MailContent, RenderMail } from '../mail/templates.js';

export const DAY_MS = 24 * 60 * 60 * 1000;

/** How many accounts one band of one run looks at: a run's work stays bounded, the next run goes on. */
const BATCH = 500;

/** The notices an account was sent for its current deadline of this kind: a subquery, for exists(). */
export function noticesForDeadline(eb: ExpressionBuilder<Database, 'accounts'>, kind: DeadlineKind['kind'], column: DeadlineKind['column']) {
  return eb
    .selectFrom('account_notices')
    .select('account_notices.account_id')
    .whereRef('account_notices.account_id', '=', 'accounts.id')
    .where('account_notices.kind', '=', kind)
    .whereRef('account_notices.due_at', '=', `accounts.${column}`);
}

export interface NoticeRun {
  /** messages sent, by days before the deadline */
  sent: Record<number, number>;
  failed: number;
}

/** One kind of deadline an account is told about ahead of time. */
export interface DeadlineKind {
  kind: 'password_expiry' | 'inactivity';
  /** the accounts column holding the deadline */
  column: 'password_expires_at' | 'inactivity_deadline';
  /** only accounts for which the deadline means something (e.g. not a temporary password) */
  eligible?: { column: 'password_temporary'; equals: boolean };
  /** an account already past its deadline still gets the last notice, when the notice is what stands before the consequence */
  lastNoticeWhenOverdue: boolean;
  message(account: Account, notice: { daysLeft: number; deadline: Date }): MailContent;
  auditAction: string;
}

/**
 * E-mails a notice before a deadline, at each of `daysBefore` (e.g. 14, 7, 2), each once: a
 * notice row is claimed (its primary key refuses a second claim, from any instance) before
 * the message goes, and given back if the message could not go, so the next run tries again.
 * An account that enters a band late (the job did not run, or the deadline moved) gets that
 * band's message only, never a burst of the ones it missed.
 */
export function createDeadlineNotices(deps: {
  db: Db;
  mailer: Mailer;
  render: RenderMail;
  audit: AuditLog;
  logger: Logger;
  deadline: DeadlineKind;
  daysBefore: readonly number[];
}) {
  const { kind, column } = deps.deadline;
  const bands = [...new Set(deps.daysBefore)].filter((d) => d > 0).sort((a, b) => a - b);
  const deadlineOf = (account: Account) => (column === 'password_expires_at' ? account.passwordExpiresAt : account.inactivityDeadline)!;

  async function dueIn(band: number, previous: number | undefined, at: Date) {
    let query = deps.db
      .selectFrom('accounts')
      .selectAll('accounts')
      .where('status', '=', 'active')
      .where(column, '<=', new Date(at.getTime() + band * DAY_MS));
    if (previous !== undefined) query = query.where(column, '>', new Date(at.getTime() + previous * DAY_MS));
    if (deps.deadline.eligible) query = query.where(deps.deadline.eligible.column, '=', deps.deadline.eligible.equals);
    return query
      .where((eb) => eb.not(eb.exists(noticesForDeadline(eb, kind, column).where('account_notices.days_before', '<=', band))))
      .orderBy(column)
      .limit(BATCH)
      .execute();
  }

  async function claim(account: Account, band: number, at: Date): Promise<boolean> {
    const claimed = await deps.db
      .insertInto('account_notices')
      .values({ account_id: account.id, kind, due_at: deadlineOf(account), days_before: band, sent_at: at })
      .onConflict((oc) => oc.doNothing())
      .returning('account_id')
      .executeTakeFirst();
    return claimed !== undefined;
  }

  async function giveBack(account: Account, band: number): Promise<void> {
    await deps.db
      .deleteFrom('account_notices')
      .where('account_id', '=', account.id)
      .where('kind', '=', kind)
      .where('due_at', '=', deadlineOf(account))
      .where('days_before', '=', band)
      .execute();
  }

  return {
    bands,

    async send(at: Date): Promise<NoticeRun> {
      const result: NoticeRun = { sent: Object.fromEntries(bands.map((b) => [b, 0])), failed: 0 };
      for (const [i, band] of bands.entries()) {
        const previous = i > 0 ? bands[i - 1] : deps.deadline.lastNoticeWhenOverdue ? undefined : 0;
        for (const row of await dueIn(band, previous, at)) {
          const account = accountFromRow(row);
          const to = referenceEmail(account);
          if (!to || !(await claim(account, band, at))) continue;
          const deadline = deadlineOf(account);
          const daysLeft = Math.max(1, Math.round((deadline.getTime() - at.getTime()) / DAY_MS));
          try {
            // sent here, not after a response: a message that could not go gives its notice back
            const message = await deps.render(deps.deadline.message(account, { daysLeft, deadline }));
            await deps.mailer.send({ to: to.address, ...message });
          } catch (error) {
            result.failed += 1;
            deps.logger.warn({ err: error, accountId: account.id, notice: kind }, 'notice not sent; the next run tries again');
            await giveBack(account, band);
            continue;
          }
          result.sent[band]! += 1;
          await deps.audit.record({ actorKind: 'system', subjectId: account.id, action: deps.deadline.auditAction, outcome: 'success', details: { daysBefore: band, deadline: deadline.toISOString() } });
        }
      }
      return result;
    },
  };
}
