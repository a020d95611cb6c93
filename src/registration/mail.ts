import type { Account } from '../accounts/account.js';
import { t } from '../i18n/index.js';
import type { MailContent } from '../mail/templates.js';

// The messages of self-registration, worded by the catalogue (mail.registration_*), in the
// one layout of src/mail/templates.ts.

type Person = Pick<Account, 'givenName' | 'familyName' | 'username'>;

const greeting = (name: { givenName: string; familyName: string }) => t('mail.greeting', { name: `${name.givenName} ${name.familyName}` });

/** The 6-digit code that proves the address belongs to the person registering. */
export function registrationCodeMail(name: { givenName: string; familyName: string }, code: { code: string; minutes: number }): MailContent {
  return {
    subject: t('mail.registration_code.subject'),
    greeting: greeting(name),
    paragraphs: [t('mail.registration_code.intro', { code: code.code })],
    notes: [t('mail.registration_code.validity', { minutes: code.minutes }), t('mail.registration_code.not_you')],
  };
}

/** The account exists: its username, in writing. */
export function registrationWelcomeMail(person: Person): MailContent {
  return {
    subject: t('mail.registration_welcome.subject'),
    greeting: greeting(person),
    paragraphs: [t('mail.registration_welcome.intro'), t('mail.registration_welcome.username', { username: person.username })],
    notes: [t('mail.registration_welcome.not_you')],
  };
}

/** To the owner of a codice fiscale someone tried to register again. */
export function registrationAttemptMail(owner: Person): MailContent {
  return {
    subject: t('mail.registration_attempt.subject'),
    greeting: greeting(owner),
    paragraphs: [t('mail.registration_attempt.intro', { username: owner.username }), t('mail.registration_attempt.hint')],
    notes: [t('mail.registration_attempt.not_you')],
  };
}
