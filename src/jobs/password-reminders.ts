import { referenceEmail, type Account } from '../accounts/account.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Db } from '../db/index.js';
import { accountFromRow } from '../accounts/account.js';
import type { Logger } from '../logger.js';
import type { Mailer } from '../mail/transport.js';
import { passwordExpiryReminderMail } from '../mail/messages.js';
import type { RenderMail } from '../mail/templates.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** How many accounts one band of one run looks at: a run's work stays bounded, the next run goes on. */
const BATCH = 500;

export interface ReminderRun {
  /** messages sent, by days before expiry */
  sent: Record<number, number>;
  failed: number;
}

/**
 * E-mails a reminder before a password expires, at each of `daysBefore` (e.g. 14, 7, 2),
 * each once: a notice row is claimed (its primary key refuses a second claim, from any
 * instance) before the message goes, and given back if the message could not go, so the
 * next run tries again. An account that enters a band late (the job did not run, or the
 * expiry moved) gets that band's message only, never a burst of the ones it missed.
 */
export function createPasswordReminders(deps: {
  db: Db;
  mailer: Mailer;
  render: RenderMail;
  audit: AuditLog;
  logger: Logger;
  daysBefore: readonly number[];
  now?: () => Date;
}) {
  const bands = [...new Set(deps.daysBefore)].filter((d) => d > 0).sort((a, b) => a - b);
  const now = deps.now ?? (() => new Date());

  async function dueIn(band: number, previous: number, at: Date) {
    return deps.db
      .selectFrom('accounts')
      .selectAll('accounts')
      .where('status', '=', 'active')
      .where('password_temporary', '=', false)
      .where('password_expires_at', '>', new Date(at.getTime() + previous * DAY_MS))
      .where('password_expires_at', '<=', new Date(at.getTime() + band * DAY_MS))
      .where(({ not, exists, selectFrom }) =>
        not(exists(
          selectFrom('account_notices')
            .select('account_notices.account_id')
            .whereRef('account_notices.account_id', '=', 'accounts.id')
            .where('account_notices.kind', '=', 'password_expiry')
            .whereRef('account_notices.due_at', '=', 'accounts.password_expires_at')
            .where('account_notices.days_before', '<=', band),
        )))
      .orderBy('password_expires_at')
      .limit(BATCH)
      .execute();
  }

  async function claim(account: Account, band: number): Promise<boolean> {
    const claimed = await deps.db
      .insertInto('account_notices')
      .values({ account_id: account.id, kind: 'password_expiry', due_at: account.passwordExpiresAt!, days_before: band })
      .onConflict((oc) => oc.doNothing())
      .returning('account_id')
      .executeTakeFirst();
    return claimed !== undefined;
  }

  async function giveBack(account: Account, band: number): Promise<void> {
    await deps.db
      .deleteFrom('account_notices')
      .where('account_id', '=', account.id)
      .where('kind', '=', 'password_expiry')
      .where('due_at', '=', account.passwordExpiresAt!)
      .where('days_before', '=', band)
      .execute();
  }

  return {
    async run(): Promise<ReminderRun> {
      const at = now();
      const result: ReminderRun = { sent: Object.fromEntries(bands.map((b) => [b, 0])), failed: 0 };
      for (const [i, band] of bands.entries()) {
        for (const row of await dueIn(band, bands[i - 1] ?? 0, at)) {
          const account = accountFromRow(row);
          const to = referenceEmail(account);
          if (!to || !(await claim(account, band))) continue;
          const daysLeft = Math.max(1, Math.round((account.passwordExpiresAt!.getTime() - at.getTime()) / DAY_MS));
          try {
            // sent here, not after a response: a message that could not go gives its notice back
            const message = await deps.render(passwordExpiryReminderMail(account, { daysLeft, expiresAt: account.passwordExpiresAt! }));
            await deps.mailer.send({ to: to.address, ...message });
          } catch (error) {
            result.failed += 1;
            deps.logger.warn({ err: error, accountId: account.id }, 'password reminder not sent; the next run tries again');
            await giveBack(account, band);
            continue;
          }
          result.sent[band]! += 1;
          await deps.audit.record({ actorKind: 'system', subjectId: account.id, action: 'password.expiry_reminder', outcome: 'success', details: { daysBefore: band, expiresAt: account.passwordExpiresAt!.toISOString() } });
        }
      }
      return result;
    },
  };
}
