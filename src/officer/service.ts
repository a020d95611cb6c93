import { referenceEmail, type Account, type AccountStatus, type AccountType, type MailboxState } from '../accounts/account.js';
import type { LoginThrottle, UsernameLock } from '../accounts/login-throttle.js';
import { TEMPORARY_PASSWORD_LIFE_MS } from '../accounts/password-expiry.js';
import type { PasswordService } from '../accounts/passwords.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Db } from '../db/index.js';
import type { AuditOutcome, SchoolRole } from '../db/schema.js';
import type { Logger } from '../logger.js';
import { officerResetMail, officerResetNoticeMail } from '../mail/messages.js';
import type { OutgoingMailQueue } from '../mail/outgoing.js';
import { createOfficerRepository, type EmployeeKey } from './repository.js';
import { createAccountRepository } from '../accounts/repository.js';

/** An officer acting for one school: every question the console asks carries both. */
export interface OfficerScope {
  officer: Account;
  school: string;
}

export interface RequestOrigin {
  ip: string;
  userAgent?: string;
  requestId?: string;
}

/** Why the console cannot reset this employee's password (the card says so before anyone tries). */
export type ResetBlock = 'not_mi' | 'mailbox_not_active' | 'own_account';

/** What the officer sees of an employee of the school. */
export interface EmployeeCard {
  id: string;
  givenName: string;
  familyName: string;
  fiscalCode: string;
  username: string;
  type: AccountType;
  institutionalEmail: string | null;
  mailboxState: MailboxState | null;
  /** roles at the school of the context (other schools' are not the officer's business) */
  roles: Array<{ role: SchoolRole; securityOfficer: boolean }>;
  status: AccountStatus;
  password: { temporary: boolean; changedAt: Date; expiresAt: Date | null; expired: boolean };
  /** an administrator's lock, or the sign-in ladder's */
  lock: UsernameLock | null;
  resetBlockedBy: ResetBlock | null;
}

export type OfficerResetOutcome =
  | { ok: true; employee: EmployeeCard; sentTo: string; validUntil: Date }
  | { ok: false; problem: 'not_found' }
  | { ok: false; problem: ResetBlock; employee: EmployeeCard }
  | { ok: false; problem: 'no_officer_email'; employee: EmployeeCard };

/**
 * SIDI Gestione Utenze (DOMAIN.md §6): a security officer, in the context of one school where
 * they hold the profile, finds employees of that school by codice fiscale and resets their
 * password. Deny by default: scope is part of every query, and anyone outside it — another
 * school's employee, a school where the profile was withdrawn a moment ago, a person with no
 * account — gets the one answer "not found", while the audit log records which it was.
 *
 * The temporary password goes to the officer's reference e-mail, never to a page or a log;
 * the employee must replace it at the next sign-in (the password_change gate), their lock is
 * cleared and every session and token they hold is ended.
 */
export function createOfficerConsole(deps: {
  db: Db;
  audit: AuditLog;
  passwords: PasswordService;
  loginThrottle: LoginThrottle;
  revokeAccess: (accountId: string) => Promise<unknown>;
  mail: OutgoingMailQueue;
  logger: Logger;
  now?: () => Date;
}) {
  const now = deps.now ?? (() => new Date());
  const officers = createOfficerRepository(deps.db);
  const log = deps.logger.child({ component: 'officer' });

  const audit = (scope: OfficerScope, action: string, outcome: AuditOutcome, from: RequestOrigin, subjectId: string | null, details: Record<string, unknown>, executor?: Db) =>
    deps.audit.record(
      { actorKind: 'officer', actorId: scope.officer.id, subjectId, action, outcome, ip: from.ip, userAgent: from.userAgent, details: { school: scope.school, ...details } },
      executor,
    );

  /** A refusal as "not found", with the truth in the audit log. */
  async function refuse(scope: OfficerScope, action: string, key: EmployeeKey, from: RequestOrigin): Promise<undefined> {
    const [subjectId, holds] = await Promise.all([officers.accountIdOf(key), officers.holdsProfile(scope.officer.id, scope.school)]);
    const reason = !holds ? 'no_profile_at_school' : subjectId ? 'outside_school' : 'no_account';
    await audit(scope, action, 'refused', from, subjectId ?? null, { reason });
    return undefined;
  }

  /** An employee in scope, found and recorded; anyone else refused as unknown. */
  async function lookUp(scope: OfficerScope, key: EmployeeKey, action: string, from: RequestOrigin): Promise<EmployeeCard | undefined> {
    const employee = await officers.employeeInScope(scope.officer.id, scope.school, key);
    if (!employee) return refuse(scope, action, key, from);
    await audit(scope, action, 'success', from, employee.id, {});
    return card(scope, employee);
  }

  async function card(scope: OfficerScope, employee: Account): Promise<EmployeeCard> {
    const [roles, ladderLock] = await Promise.all([
      officers.rolesAt(employee.id, scope.school),
      deps.loginThrottle.lockState(employee.username),
    ]);
    const at = now();
    const adminLock = employee.lockedUntil && employee.lockedUntil > at ? { until: employee.lockedUntil, unlockRequired: false } : null;
    return {
      id: employee.id,
      givenName: employee.givenName,
      familyName: employee.familyName,
      fiscalCode: employee.fiscalCode,
      username: employee.username,
      type: employee.type,
      institutionalEmail: employee.institutionalEmail,
      mailboxState: employee.mailboxState,
      roles,
      status: employee.status,
      password: {
        temporary: employee.passwordTemporary,
        changedAt: employee.passwordChangedAt,
        expiresAt: employee.passwordTemporary ? new Date(employee.passwordChangedAt.getTime() + TEMPORARY_PASSWORD_LIFE_MS) : employee.passwordExpiresAt,
        expired: !employee.passwordTemporary && employee.passwordExpiresAt !== null && employee.passwordExpiresAt <= at,
      },
      lock: adminLock ?? ladderLock,
      resetBlockedBy: resetBlock(employee, scope.officer),
    };
  }

  return {
    /** The schools the officer may choose as context (the profile is read at every request). */
    schoolsOf: (officerId: string) => officers.officerSchools(officerId),

    holdsProfile: (scope: OfficerScope) => officers.holdsProfile(scope.officer.id, scope.school),

    /** A school the officer may not act for was asked for: recorded, and answered as unknown. */
    async schoolRefused(scope: OfficerScope, from: RequestOrigin): Promise<void> {
      await audit(scope, 'officer.school_refused', 'refused', from, null, { reason: 'no_profile_at_school' });
    },

    search: (scope: OfficerScope, fiscalCode: string, from: RequestOrigin) => lookUp(scope, { fiscalCode }, 'officer.employee_searched', from),

    card: (scope: OfficerScope, accountId: string, from: RequestOrigin) => lookUp(scope, { accountId }, 'officer.employee_viewed', from),

    /**
     * Checked once before the password is drawn and hashed (argon2id is not spent on a
     * refusal), and again inside the transaction that stores it, with the officer's profile
     * and the employee's row locked: a profile withdrawn, a mailbox suspended or a second
     * reset arriving meanwhile is seen, never raced.
     */
    async resetPassword(scope: OfficerScope, accountId: string, from: RequestOrigin): Promise<OfficerResetOutcome> {
      const key = { accountId };
      const employee = await officers.employeeInScope(scope.officer.id, scope.school, key);
      if (!employee) {
        await refuse(scope, 'officer.password_reset', key, from);
        return { ok: false, problem: 'not_found' };
      }
      const before = await card(scope, employee);
      const sendTo = referenceEmail(scope.officer);
      const blocked = resetBlock(employee, scope.officer) ?? (sendTo ? null : 'no_officer_email');
      if (blocked) {
        await audit(scope, 'officer.password_reset', 'refused', from, employee.id, { reason: blocked });
        return { ok: false, problem: blocked, employee: before };
      }

      let refusal: 'not_found' | ResetBlock | undefined;
      const at = now();
      const set = await deps.passwords.setTemporary(employee.id, { kind: 'officer', id: scope.officer.id, ip: from.ip, userAgent: from.userAgent }, async (trx) => {
        const locked = createOfficerRepository(trx);
        const current = (await locked.holdsProfile(scope.officer.id, scope.school, true))
          ? await locked.employeeInScope(scope.officer.id, scope.school, key, true)
          : undefined;
        refusal = !current ? 'not_found' : resetBlock(current, scope.officer) ?? undefined;
        if (refusal) return false;
        await createAccountRepository(trx).revokeSessionsBefore(employee.id, at);
        await audit(scope, 'officer.password_reset', 'success', from, employee.id, { sentTo: 'officer' }, trx);
        return true;
      });
      if (!set) {
        const problem = refusal ?? 'not_found';
        await audit(scope, 'officer.password_reset', 'refused', from, employee.id, { reason: problem === 'not_found' ? 'scope_changed' : problem });
        return problem === 'not_found' ? { ok: false, problem } : { ok: false, problem, employee: before };
      }

      try {
        await deps.revokeAccess(employee.id);
      } catch (error) {
        // the SSO sessions already stopped counting (revokeSessionsBefore, committed above)
        log.error({ err: error, accountId: employee.id }, 'revocation after an officer reset failed');
      }
      await deps.loginThrottle.unlock(employee.username).catch((error: unknown) => log.warn({ err: error }, 'sign-in lock not cleared'));
      const validUntil = new Date(at.getTime() + TEMPORARY_PASSWORD_LIFE_MS);
      deps.mail.send(sendTo!.address, officerResetMail(scope.officer, { employee, school: scope.school, password: set.password, validUntil }), { template: 'officer_reset', requestId: from.requestId });
      const employeeMail = referenceEmail(employee);
      if (employeeMail && employeeMail.address.toLowerCase() !== sendTo!.address.toLowerCase()) {
        deps.mail.send(employeeMail.address, officerResetNoticeMail(employee, { school: scope.school, at }), { template: 'officer_reset_notice', requestId: from.requestId });
      }
      const updated = await officers.employeeInScope(scope.officer.id, scope.school, key);
      return { ok: true, employee: updated ? await card(scope, updated) : before, sentTo: sendTo!.address, validUntil };
    },
  };
}

export type OfficerConsole = ReturnType<typeof createOfficerConsole>;

/**
 * DOMAIN.md §6: MI accounts only (standard ones recover by themselves), only with the mailbox
 * ATTIVA, and never the officer's own (another officer or the help desk does that: a reset is
 * a second person's act).
 */
function resetBlock(employee: Account, officer: Account): ResetBlock | null {
  if (employee.id === officer.id) return 'own_account';
  if (employee.type !== 'mi') return 'not_mi';
  if (employee.mailboxState !== 'ATTIVA') return 'mailbox_not_active';
  return null;
}
