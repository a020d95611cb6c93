import type { Account } from '../accounts/account.js';
import { t } from '../i18n/index.js';
import { formatDateTime, type MailContent } from './templates.js';

// The messages of the system, worded by the catalogue (mail.*). Each goes to the
// reference e-mail of the account (referenceEmail in accounts/account.ts).

type Person = Pick<Account, 'givenName' | 'familyName' | 'username' | 'type'>;

const greeting = (person: Person) => t('mail.greeting', { name: `${person.givenName} ${person.familyName}` });

/** Password dimenticata?: the single-use link. */
export function passwordResetMail(person: Person, link: { url: string; minutes: number }): MailContent {
  return {
    subject: t('mail.password_reset.subject'),
    greeting: greeting(person),
    paragraphs: [t('mail.password_reset.intro', { username: person.username })],
    action: { label: t('mail.password_reset.action'), url: link.url },
    notes: [t('mail.password_reset.validity', { minutes: link.minutes }), t('mail.password_reset.not_you')],
  };
}

/** After a reset through a link: the owner hears of it even when someone else did it. */
export function passwordResetDoneMail(person: Person, at: Date): MailContent {
  return {
    subject: t('mail.password_reset_done.subject'),
    greeting: greeting(person),
    paragraphs: [t('mail.password_reset_done.intro', { username: person.username, when: formatDateTime(at) })],
    notes: [t('mail.password_reset_done.not_you')],
  };
}

/** Username dimenticato? */
export function usernameReminderMail(person: Person): MailContent {
  return {
    subject: t('mail.username_reminder.subject'),
    greeting: greeting(person),
    paragraphs: [t('mail.username_reminder.intro'), t('mail.username_reminder.username', { username: person.username })],
    notes: [
      t(person.type === 'mi' ? 'mail.username_reminder.password_mi' : 'mail.username_reminder.password_standard'),
      t('mail.username_reminder.not_you'),
    ],
  };
}

const DATE = new Intl.DateTimeFormat('it-IT', { timeZone: 'Europe/Rome', day: 'numeric', month: 'long', year: 'numeric' });

/** Before a password expires: when, and that nothing will be blocked. */
export function passwordExpiryReminderMail(person: Person, expiry: { daysLeft: number; expiresAt: Date }): MailContent {
  return {
    subject: expiry.daysLeft === 1
      ? t('mail.password_reminder.subject_tomorrow')
      : t('mail.password_reminder.subject', { days: expiry.daysLeft }),
    greeting: greeting(person),
    paragraphs: [
      t('mail.password_reminder.body', { username: person.username, date: DATE.format(expiry.expiresAt) }),
      t('mail.password_reminder.not_blocked'),
    ],
  };
}

/** Before an unused account becomes dormant (AgID Regolamento art. 20): when, how to keep it, how to come back. */
export function inactivityNoticeMail(person: Person, notice: { daysLeft: number; dormantFrom: Date; months: number }): MailContent {
  return {
    subject: notice.daysLeft === 1
      ? t('mail.inactivity.subject_tomorrow')
      : t('mail.inactivity.subject', { days: notice.daysLeft }),
    greeting: greeting(person),
    paragraphs: [
      t('mail.inactivity.body', { username: person.username, months: notice.months, date: DATE.format(notice.dormantFrom) }),
      t('mail.inactivity.keep'),
    ],
    notes: [t(person.type === 'mi' ? 'mail.inactivity.way_back_mi' : 'mail.inactivity.way_back_standard')],
  };
}

/** The first rung of the lockout ladder: when it ends, and what to do if it was not the owner. */
export function accountLockedMail(person: Person, lock: { until: Date; failures: number }): MailContent {
  return {
    subject: t('mail.account_locked.subject'),
    greeting: greeting(person),
    paragraphs: [
      t('mail.account_locked.intro', { username: person.username, failures: lock.failures, until: formatDateTime(lock.until) }),
      t('mail.account_locked.known_browsers'),
    ],
    notes: [t(person.type === 'mi' ? 'mail.account_locked.not_you_mi' : 'mail.account_locked.not_you_standard')],
  };
}

/** The second rung: locked until the owner chooses a new password through this link. */
export function accountUnlockMail(person: Person, link: { url: string; until: Date }): MailContent {
  return {
    subject: t('mail.account_unlock.subject'),
    greeting: greeting(person),
    paragraphs: [t('mail.account_unlock.intro', { username: person.username }), t('mail.account_locked.known_browsers')],
    action: { label: t('mail.account_unlock.action'), url: link.url },
    notes: [t('mail.account_unlock.validity', { until: formatDateTime(link.until) }), t('mail.password_reset.not_you')],
  };
}

/** The second rung for an MI account: no self-service password, the officer unlocks it. */
export function accountLockedMiMail(person: Person, lock: { until: Date }): MailContent {
  return {
    subject: t('mail.account_unlock.subject'),
    greeting: greeting(person),
    paragraphs: [t('mail.account_unlock.intro_mi', { username: person.username, until: formatDateTime(lock.until) }), t('mail.account_locked.known_browsers')],
  };
}

/**
 * SIDI Gestione Utenze: the temporary password, to the officer who reset it (DOMAIN.md §6),
 * who hands it to the employee. The only message that carries a password.
 */
export function officerResetMail(
  officer: Person,
  reset: { employee: Person; school: string; password: string; validUntil: Date },
): MailContent {
  const employee = `${reset.employee.givenName} ${reset.employee.familyName}`;
  return {
    subject: t('mail.officer_reset.subject', { employee }),
    greeting: greeting(officer),
    paragraphs: [
      t('mail.officer_reset.intro', { employee, username: reset.employee.username, school: reset.school }),
      t('mail.officer_reset.password', { password: reset.password }),
      t('mail.officer_reset.next', { until: formatDateTime(reset.validUntil) }),
    ],
    notes: [t('mail.officer_reset.handle_with_care')],
  };
}

/** SIDI Gestione Utenze: the employee hears that their password was reset, and by whom to ask. */
export function officerResetNoticeMail(person: Person, reset: { school: string; at: Date }): MailContent {
  return {
    subject: t('mail.officer_reset_notice.subject'),
    greeting: greeting(person),
    paragraphs: [t('mail.officer_reset_notice.intro', { username: person.username, school: reset.school, when: formatDateTime(reset.at) })],
    notes: [t('mail.officer_reset_notice.not_asked')],
  };
}
