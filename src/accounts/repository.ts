import { sql } from 'kysely';
import type { Db } from '../db/index.js';
import type { NewAccountRow, SchoolRole } from '../db/schema.js';
import { accountFromRow, type Account, type AccountStatus, type ContactData } from './account.js';

export interface AccountCredentials {
  account: Account;
  passwordHash: string;
}

export interface SchoolAssignment {
  schoolCode: string;
  role: SchoolRole;
  securityOfficer: boolean;
}

export type AccountRepository = ReturnType<typeof createAccountRepository>;

export function createAccountRepository(db: Db) {
  return {
    async findById(id: string): Promise<Account | undefined> {
      if (!isUuid(id)) return undefined;
      const row = await db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst();
      return row && accountFromRow(row);
    },

    async findCredentialsByUsername(username: string): Promise<AccountCredentials | undefined> {
      const row = await db
        .selectFrom('accounts')
        .selectAll()
        .where(sql<string>`lower(username)`, '=', username.toLowerCase())
        .executeTakeFirst();
      return row && { account: accountFromRow(row), passwordHash: row.password_hash };
    },

    async findCredentialsById(id: string): Promise<AccountCredentials | undefined> {
      if (!isUuid(id)) return undefined;
      const row = await db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst();
      return row && { account: accountFromRow(row), passwordHash: row.password_hash };
    },

    /** The account's passwords, newest first (the current one included). */
    async passwordHistory(accountId: string): Promise<Array<{ hash: string; setAt: Date }>> {
      const rows = await db
        .selectFrom('password_history')
        .select(['password_hash', 'set_at'])
        .where('account_id', '=', accountId)
        .orderBy('set_at', 'desc')
        .orderBy('id', 'desc')
        .execute();
      return rows.map((r) => ({ hash: r.password_hash, setAt: r.set_at }));
    },

    /**
     * A new password, kept in the history; any lock, any pending flag on the old one and any
     * recovery link still open go. Call inside a transaction.
     */
    async replacePassword(accountId: string, password: { hash: string; expiresAt: Date; temporary: boolean }): Promise<void> {
      const now = new Date();
      await db
        .updateTable('accounts')
        .set({
          password_hash: password.hash,
          password_changed_at: now,
          password_expires_at: password.expiresAt,
          password_temporary: password.temporary,
          password_noncompliant: false,
          temporary_password_used_at: null,
          locked_until: null,
          // a new password is activity, and brings a dormant account back (DOMAIN.md §4)
          status: sql<AccountStatus>`case when status = 'dormant' then 'active' else status end`,
          last_active_at: now,
          inactivity_deadline: null,
          updated_at: now,
        })
        .where('id', '=', accountId)
        .execute();
      await db.insertInto('password_history').values({ account_id: accountId, password_hash: password.hash, set_at: now }).execute();
      // a link asked for before this change must not undo it
      await db
        .updateTable('recovery_tokens')
        .set({ retired_at: now })
        .where('account_id', '=', accountId)
        .where('used_at', 'is', null)
        .where('retired_at', 'is', null)
        .execute();
    },

    /** Marks a temporary password used; false when it already was (it works once, even for parallel sign-ins). */
    async useTemporaryPassword(accountId: string): Promise<boolean> {
      const updated = await db
        .updateTable('accounts')
        .set({ temporary_password_used_at: new Date() })
        .where('id', '=', accountId)
        .where('password_temporary', '=', true)
        .where('temporary_password_used_at', 'is', null)
        .executeTakeFirst();
      return Number(updated.numUpdatedRows) === 1;
    },

    async setPasswordNoncompliant(accountId: string, noncompliant: boolean): Promise<void> {
      await db.updateTable('accounts').set({ password_noncompliant: noncompliant }).where('id', '=', accountId).execute();
    },

    async findByFiscalCode(fiscalCode: string): Promise<Account | undefined> {
      const row = await db
        .selectFrom('accounts')
        .selectAll()
        .where('fiscal_code', '=', fiscalCode.toUpperCase())
        .executeTakeFirst();
      return row && accountFromRow(row);
    },

    async usernamesStartingWith(prefix: string): Promise<string[]> {
      const escaped = prefix.toLowerCase().replace(/[\\%_]/g, (c) => '\\' + c);
      const rows = await db
        .selectFrom('accounts')
        .select('username')
        .where(sql<string>`lower(username)`, 'like', escaped + '%')
        .execute();
      return rows.map((r) => r.username.toLowerCase());
    },

    /** Inserts the account and its first password-history entry. Call inside a transaction. */
    async insert(row: NewAccountRow): Promise<Account> {
      const inserted = await db.insertInto('accounts').values(row).returningAll().executeTakeFirstOrThrow();
      await db
        .insertInto('password_history')
        .values({ account_id: inserted.id, password_hash: row.password_hash })
        .execute();
      return accountFromRow(inserted);
    },

    async addSchoolAssignment(accountId: string, assignment: SchoolAssignment): Promise<void> {
      await db
        .insertInto('school_assignments')
        .values({
          account_id: accountId,
          school_code: assignment.schoolCode,
          role: assignment.role,
          security_officer: assignment.securityOfficer,
        })
        .onConflict((oc) => oc.columns(['account_id', 'school_code', 'role']).doNothing())
        .execute();
    },

    async schoolAssignments(accountId: string): Promise<SchoolAssignment[]> {
      const rows = await db
        .selectFrom('school_assignments')
        .select(['school_code', 'role', 'security_officer'])
        .where('account_id', '=', accountId)
        .orderBy('school_code')
        .execute();
      return rows.map((r) => ({ schoolCode: r.school_code, role: r.role, securityOfficer: r.security_officer }));
    },

    /** Same password, stronger parameters: the history and change date stay as they are. */
    async replaceHashForSamePassword(accountId: string, previousHash: string, newHash: string): Promise<void> {
      await db
        .updateTable('accounts')
        .set({ password_hash: newHash })
        .where('id', '=', accountId)
        .where('password_hash', '=', previousHash)
        .execute();
    },

    /** An account made active again counts as just used: its inactivity starts over. */
    async setStatus(accountId: string, status: 'active' | 'suspended'): Promise<void> {
      const now = new Date();
      await db
        .updateTable('accounts')
        .set(status === 'active' ? { status, last_active_at: now, inactivity_deadline: null, updated_at: now } : { status, updated_at: now })
        .where('id', '=', accountId)
        .execute();
    },

    /**
     * A sign-in: inactivity starts over. Only an active account: one made dormant since it
     * was read stays dormant, and undefined says so.
     */
    async recordActivity(accountId: string, at: Date): Promise<Account | undefined> {
      const row = await db
        .updateTable('accounts')
        .set({ last_active_at: at, inactivity_deadline: null })
        .where('id', '=', accountId)
        .where('status', '=', 'active')
        .returningAll()
        .executeTakeFirst();
      return row && accountFromRow(row);
    },

    /** The account, its row locked until the transaction ends (call it inside one). */
    async findForUpdate(id: string): Promise<Account | undefined> {
      const row = await db.selectFrom('accounts').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
      return row && accountFromRow(row);
    },

    async setContactData(accountId: string, data: ContactData): Promise<void> {
      await db.updateTable('accounts').set({
        mobile_phone: data.mobilePhone,
        home_phone: data.homePhone,
        street_address: data.street,
        postal_code: data.postalCode,
        country: data.country,
        province: data.province,
        municipality: data.municipality,
        updated_at: new Date(),
      }).where('id', '=', accountId).execute();
    },

    /** A personal address proven by a code: stored as verified. */
    async setPersonalEmail(accountId: string, email: string): Promise<Account> {
      const row = await db.updateTable('accounts').set({ personal_email: email, personal_email_verified: true, updated_at: new Date() })
        .where('id', '=', accountId).returningAll().executeTakeFirstOrThrow();
      return accountFromRow(row);
    },

    /** false when it already was as asked (nothing written). */
    async setSignInNotice(accountId: string, on: boolean): Promise<boolean> {
      const result = await db.updateTable('accounts').set({ sign_in_notice: on, updated_at: new Date() })
        .where('id', '=', accountId).where('sign_in_notice', '=', !on).executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    /** Every SSO session signed in before `at` stops counting as a sign-in. */
    async revokeSessionsBefore(accountId: string, at: Date): Promise<void> {
      await db.updateTable('accounts').set({ access_revoked_at: at, updated_at: new Date() }).where('id', '=', accountId).execute();
    },

    async count(): Promise<number> {
      const { n } = await db
        .selectFrom('accounts')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow();
      return Number(n);
    },
  };
}

function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}
