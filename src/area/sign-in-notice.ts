import { referenceEmail, type Account } from '../accounts/account.js';
import { createAccountRepository } from '../accounts/repository.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Db } from '../db/index.js';
import { t } from '../i18n/index.js';
import type { OutgoingMailQueue } from '../mail/outgoing.js';
import { AREA_RISERVATA, type ServiceDirectory } from '../services/consoles.js';
import { describeBrowser } from '../provider/session-ledger.js';
import { signInNoticeMail } from './mail.js';

/**
 * The e-mail at every sign-in (AgID Regolamento, art. 18), for those who switched it on in the
 * Area riservata: when, which service, from which address and browser, and a link to the
 * session ledger to end a session they do not recognise. Sent after the response, to the
 * reference e-mail.
 */
export function createSignInNotice(deps: { mail: OutgoingMailQueue; issuer: string; serviceDirectory: ServiceDirectory }) {
  return async (account: Account, signIn: { at: Date; ip: string; userAgent?: string; clientId?: string }): Promise<void> => {
    const to = referenceEmail(account);
    if (!to) return;
    const serviceOf = await deps.serviceDirectory();
    deps.mail.send(to.address, signInNoticeMail(account, {
      at: signIn.at,
      service: (signIn.clientId && serviceOf(signIn.clientId)?.name) || t('area.activity.unknown_service'),
      ip: signIn.ip,
      browser: describeBrowser(signIn.userAgent ?? '').browser || t('area.sessions.unknown_browser'),
      sessionsUrl: `${deps.issuer}${AREA_RISERVATA.path}/sessioni`,
    }), { template: 'sign_in_notice' });
  };
}

/** Switches the notice on or off, audited; false when it already was as asked. */
export function createSignInNoticeSetting(deps: { db: Db; audit: AuditLog }) {
  return async (accountId: string, on: boolean, from: { ip: string; userAgent?: string }): Promise<boolean> => {
    if (!(await createAccountRepository(deps.db).setSignInNotice(accountId, on))) return false;
    await deps.audit.record({ actorKind: 'user', actorId: accountId, subjectId: accountId, action: 'account.sign_in_notice_changed', outcome: 'success', ip: from.ip, userAgent: from.userAgent, details: { before: !on, after: on } });
    return true;
  };
}

export type SignInNoticeSetting = ReturnType<typeof createSignInNoticeSetting>;
