import { accountFromRow, type Account } from '../accounts/account.js';
import type { Db } from '../db/index.js';
import type { SchoolRole } from '../db/schema.js';

/** Who is looked for: by codice fiscale (the search) or by id (the card and its forms). */
export type EmployeeKey = { fiscalCode: string } | { accountId: string };

/**
 * The officer console's queries. Every lookup of an employee carries the school context and
 * the officer, and finds someone only when the officer holds the profile there and the
 * employee is assigned there: scope is a condition of the query, never a check after it.
 */
export function createOfficerRepository(db: Db) {
  const employee = (key: EmployeeKey) =>
    'fiscalCode' in key ? ['fiscal_code', key.fiscalCode] as const : ['id', key.accountId] as const;

  return {
    /** The schools where the account holds the security officer profile, now. */
    async officerSchools(officerId: string): Promise<string[]> {
      const rows = await db
        .selectFrom('school_assignments')
        .select('school_code')
        .distinct()
        .where('account_id', '=', officerId)
        .where('security_officer', '=', true)
        .orderBy('school_code')
        .execute();
      return rows.map((r) => r.school_code);
    },

    /**
     * Whether the officer holds the profile at the school. With `lock`, the profile row is
     * held until the transaction ends, so a withdrawal waits for an action under way.
     */
    async holdsProfile(officerId: string, school: string, lock = false): Promise<boolean> {
      let query = db
        .selectFrom('school_assignments')
        .select('account_id')
        .where('account_id', '=', officerId)
        .where('school_code', '=', school)
        .where('security_officer', '=', true);
      if (lock) query = query.forShare();
      return (await query.executeTakeFirst()) !== undefined;
    },

    /** The employee, if assigned to the school and the officer holds the profile there. */
    async employeeInScope(officerId: string, school: string, key: EmployeeKey, lock = false): Promise<Account | undefined> {
      const [column, value] = employee(key);
      let query = db
        .selectFrom('accounts')
        .selectAll('accounts')
        .where(`accounts.${column}`, '=', value)
        .where((eb) => eb.exists(
          eb.selectFrom('school_assignments as e').select('e.account_id').whereRef('e.account_id', '=', 'accounts.id').where('e.school_code', '=', school),
        ))
        .where((eb) => eb.exists(
          eb.selectFrom('school_assignments as o').select('o.account_id').where('o.account_id', '=', officerId).where('o.school_code', '=', school).where('o.security_officer', '=', true),
        ));
      if (lock) query = query.forUpdate();
      const row = await query.executeTakeFirst();
      return row && accountFromRow(row);
    },

    /** For the audit entry of a refusal only: whose account it was, if anyone's. */
    async accountIdOf(key: EmployeeKey): Promise<string | undefined> {
      const [column, value] = employee(key);
      const row = await db.selectFrom('accounts').select('id').where(column, '=', value).executeTakeFirst();
      return row?.id;
    },

    /** The employee's roles at one school (the card shows no other school's). */
    async rolesAt(accountId: string, school: string): Promise<Array<{ role: SchoolRole; securityOfficer: boolean }>> {
      const rows = await db
        .selectFrom('school_assignments')
        .select(['role', 'security_officer'])
        .where('account_id', '=', accountId)
        .where('school_code', '=', school)
        .orderBy('role')
        .execute();
      return rows.map((r) => ({ role: r.role, securityOfficer: r.security_officer }));
    },
  };
}

export type OfficerRepository = ReturnType<typeof createOfficerRepository>;
