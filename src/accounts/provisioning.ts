import type { AuditLog } from '../audit/audit-log.js';
import type { Db } from '../db/index.js';
import type { SchoolRole } from '../db/schema.js';
import type { Account, AccountType, Identity, MailboxState } from './account.js';
import { validateCodiceFiscale } from './codice-fiscale.js';
import { passwordExpiresAt } from './password-expiry.js';
import type { PasswordHasher } from './password-hashing.js';
import type { PasswordPolicy } from './password-policy.js';
import { createAccountRepository } from './repository.js';
import { baseUsername, isMiUsername, pickUsername } from './username.js';

export interface NewAccount extends Identity {
  type: AccountType;
  /** required for MI accounts (assigned by the ministry); standard ones get nome.cognome */
  username?: string;
  personalEmail?: string;
  /** proven by a code sent to it (self-registration) */
  personalEmailVerified?: boolean;
  institutionalEmail?: { address: string; state: MailboxState };
  mobilePhone?: string;
  password: string;
  passwordTemporary?: boolean;
  schools?: Array<{ schoolCode: string; role: SchoolRole; securityOfficer?: boolean }>;
}

/** What a new account holds of contact data and locks before its owner says otherwise. */
export const NOTHING_YET = {
  home_phone: null,
  street_address: null,
  postal_code: null,
  municipality: null,
  province: null,
  country: null,
  locked_until: null,
} as const;

export class ProvisioningError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join(', '));
  }
}

/** Creates accounts with their first password and school assignments, audited, in one transaction. */
export function createAccountProvisioning(deps: { db: Db; hasher: PasswordHasher; audit: AuditLog; policy: PasswordPolicy }) {
  return {
    async provision(input: NewAccount, actor: { kind: 'system' | 'admin'; id?: string } = { kind: 'system' }): Promise<Account> {
      const cf = validateCodiceFiscale(input.fiscalCode, {
        givenName: input.givenName,
        familyName: input.familyName,
        birthDate: input.birthDate,
        sex: input.sex,
      });
      if (!cf.valid) throw new ProvisioningError(cf.problems);
      if (input.type === 'mi' && !(input.username && isMiUsername(input.username))) {
        throw new ProvisioningError(['username.mi_required']);
      }
      const base = input.type === 'standard' ? baseUsername(input.givenName, input.familyName) : null;
      if (input.type === 'standard' && !base) throw new ProvisioningError(['username.no_latin_letters']);
      const passwordHash = await deps.hasher.hash(input.password);

      return deps.db.transaction().execute(async (trx) => {
        const accounts = createAccountRepository(trx);
        const username = base ? pickUsername(base, await accounts.usernamesStartingWith(base)) : input.username!.toUpperCase();
        const account = await accounts.insert({
          username,
          account_type: input.type,
          given_name: input.givenName,
          family_name: input.familyName,
          fiscal_code: cf.normalized,
          birth_date: input.birthDate,
          birth_place: input.birthPlace,
          sex: input.sex,
          personal_email: input.personalEmail ?? null,
          ...(input.personalEmailVerified ? { personal_email_verified: true } : {}),
          institutional_email: input.institutionalEmail?.address ?? null,
          mailbox_state: input.institutionalEmail?.state ?? null,
          mobile_phone: input.mobilePhone ?? null,
          ...NOTHING_YET,
          password_hash: passwordHash,
          // spread: an import of thousands of accounts does not make one day of expiries
          password_expires_at: input.passwordTemporary ? new Date() : passwordExpiresAt(deps.policy, input.type, cf.normalized, new Date()),
          password_temporary: input.passwordTemporary ?? false,
        });
        for (const school of input.schools ?? []) {
          await accounts.addSchoolAssignment(account.id, { ...school, securityOfficer: school.securityOfficer ?? false });
        }
        await deps.audit.record(
          { actorKind: actor.kind, actorId: actor.id, subjectId: account.id, action: 'account.created', outcome: 'success', details: { type: input.type } },
          trx,
        );
        return account;
      });
    },
  };
}
