import type { AuditLog } from '../audit/audit-log.js';
import type { Db } from '../db/index.js';
import type { Logger } from '../logger.js';
import { passwordExpiryReminderMail } from '../mail/messages.js';
import type { RenderMail } from '../mail/templates.js';
import type { Mailer } from '../mail/transport.js';
import { createDeadlineNotices, type NoticeRun } from './deadline-notices.js';

export type ReminderRun = NoticeRun;

/**
 * Reminders before a password expires (DOMAIN.md §4), at each of `daysBefore`, each once.
 * A temporary password is born expired and gets none; an expired one gets none either:
 * the next sign-in asks for a new one.
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
  const now = deps.now ?? (() => new Date());
  const notices = createDeadlineNotices({
    ...deps,
    deadline: {
      kind: 'password_expiry',
      column: 'password_expires_at',
      eligible: { column: 'password_temporary', equals: false },
      lastNoticeWhenOverdue: false,
      message: (account, { daysLeft, deadline }) => passwordExpiryReminderMail(account, { daysLeft, expiresAt: deadline }),
      auditAction: 'password.expiry_reminder',
    },
  });
  return { run: (): Promise<ReminderRun> => notices.send(now()) };
}
