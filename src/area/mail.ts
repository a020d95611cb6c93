import type { Account } from '../accounts/account.js';
import { t } from '../i18n/index.js';
import { formatDateTime, type MailContent } from '../mail/templates.js';

// The messages of the Area riservata, worded by the catalogue (mail.email_change_*,
// mail.sign_in_notice.*), in the one layout of src/mail/templates.ts.

type Person = Pick<Account, 'givenName' | 'familyName' | 'username'>;

const greeting = (person: Person) => t('mail.greeting', { name: `${person.givenName} ${person.familyName}` });

/** To the new personal address: the code that proves it is the person's. */
export function emailChangeCodeMail(person: Person, code: { code: string; minutes: number }): MailContent {
  return {
    subject: t('mail.email_change_code.subject'),
    greeting: greeting(person),
    paragraphs: [t('mail.email_change_code.intro', { username: person.username, code: code.code })],
    notes: [t('mail.email_change_code.validity', { minutes: code.minutes }), t('mail.email_change_code.not_you')],
  };
}

/** To the address replaced (and the reference mailbox): the change, and what to do if it was not them. */
export function emailChangedNoticeMail(person: Person, change: { at: Date; newEmail: string }): MailContent {
  return {
    subject: t('mail.email_changed.subject'),
    greeting: greeting(person),
    paragraphs: [t('mail.email_changed.intro', { username: person.username, when: formatDateTime(change.at), address: change.newEmail })],
    notes: [t('mail.email_changed.not_you')],
  };
}

/** At every sign-in, when the person asked for it (AgID Regolamento, art. 18). */
export function signInNoticeMail(person: Person, signIn: { at: Date; service: string; ip: string; browser: string; sessionsUrl: string }): MailContent {
  return {
    subject: t('mail.sign_in_notice.subject'),
    greeting: greeting(person),
    paragraphs: [
      t('mail.sign_in_notice.intro', { username: person.username }),
      t('mail.sign_in_notice.details', { when: formatDateTime(signIn.at), service: signIn.service, ip: signIn.ip, browser: signIn.browser }),
    ],
    action: { label: t('mail.sign_in_notice.action'), url: signIn.sessionsUrl },
    notes: [t('mail.sign_in_notice.not_you'), t('mail.sign_in_notice.opt_out')],
  };
}
