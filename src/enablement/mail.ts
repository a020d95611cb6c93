import type { Account } from '../accounts/account.js';
import { t } from '../i18n/index.js';
import type { MailContent } from '../mail/templates.js';

type Person = Pick<Account, 'givenName' | 'familyName'>;
const greeting = (person: Person) => t('mail.greeting', { name: `${person.givenName} ${person.familyName}` });

/** The temporary personal code of an enablement request, to the reference e-mail. */
export function enablementCodeMail(person: Person, request: { service: string; number: string; code: string; days: number }): MailContent {
  return {
    subject: t('mail.enablement_code.subject', { service: request.service }),
    greeting: greeting(person),
    paragraphs: [
      t('mail.enablement_code.intro', { service: request.service, number: request.number, code: request.code }),
      t('mail.enablement_code.next', { service: request.service }),
    ],
    notes: [t('mail.enablement_code.validity', { days: request.days }), t('mail.enablement_code.not_you')],
  };
}

/** The identification confirmed: what happens at the next sign-in. */
export function enablementIdentifiedMail(person: Person, request: { service: string; number: string }): MailContent {
  return {
    subject: t('mail.enablement_identified.subject', { service: request.service }),
    greeting: greeting(person),
    paragraphs: [
      t('mail.enablement_identified.intro', { service: request.service, number: request.number }),
      t('mail.enablement_identified.next', { service: request.service }),
    ],
    notes: [t('mail.enablement_identified.not_you')],
  };
}
