import { createHash, randomInt } from 'node:crypto';
import { sql } from 'kysely';

import type { AccountType } from '../accounts/account.js';
import { passwordExpiresAt } from '../accounts/password-expiry.js';
import { NO_PASSWORD } from '../accounts/password-hashing.js';
import { NOTHING_YET } from '../accounts/provisioning.js';
import type { PasswordPolicy } from '../accounts/password-policy.js';
import { baseUsername, usernameCandidate } from '../accounts/username.js';
import { apiClientDetail, type AuditLog } from '../audit/audit-log.js';
import type { Db } from '../db/index.js';
import type { AccountUpdate, NewAccountRow, SchoolRole } from '../db/schema.js';
import { t } from '../i18n/index.js';
import { MI_ROLES, parseStaffFile, type Column, type StaffRow } from './csv-format.js';

export type LineOutcome = 'created' | 'updated' | 'unchanged' | 'refused';

export interface ImportReport {
  file: { sha256: string };
  dryRun: boolean;
  /** true only when every line was accepted and the changes were written */
  applied: boolean;
  /** a refusal of the whole file (encoding, header), before any line was read */
  fileProblem?: string;
  counts: Record<LineOutcome, number>;
  lines: Array<{ line: number; fiscalCode?: string; outcome: LineOutcome; problems?: Array<{ field: Column | null; message: string }> }>;
  /** assignments to the file's schools that the file no longer lists (staff who left) */
  removedAssignments: Array<{ fiscalCode: string; schoolCode: string; role: SchoolRole }>;
}

/** One person of the file: the personal data of their first line, and every assignment. */
interface Person {
  first: StaffRow;
  lines: number[];
  type: AccountType;
  assignments: Map<string, { schoolCode: string; role: SchoolRole; securityOfficer: boolean; line: number }>;
}

interface ExistingAccount {
  id: string;
  fiscal_code: string;
  account_type: AccountType;
  given_name: string;
  family_name: string;
  birth_place: string;
  institutional_email: string | null;
  mailbox_state: string | null;
  personal_email: string | null;
}

const CHUNK = 1000;
const PERSON_FIELDS = ['familyName', 'givenName', 'sex', 'birthDate', 'birthPlace', 'institutionalEmail', 'mailboxState', 'personalEmail'] as const;
const INSTITUTIONAL_DOMAIN: Record<AccountType, string> = { mi: '@istruzione.it', standard: '@posta.istruzione.it' };
const assignmentKey = (fiscalCode: string, schoolCode: string, role: string) => `${fiscalCode}|${schoolCode}|${role}`;

function chunks<T>(items: readonly T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * `npm run import-staff` and the admin endpoint: a staff file (src/staff/csv-format.ts) read
 * whole, every line checked, then applied all or nothing in one transaction. The file is the
 * truth for the schools it names: their assignments not in it are removed. Idempotent: a
 * second run of the same file finds nothing to change. New accounts have no usable password
 * (an MI one gets it from a school's security officer, a nome.cognome one through «Password
 * dimenticata?» at its institutional address) and expiry dates spread over the policy's days.
 */
export function createStaffImport(deps: { db: Db; audit: AuditLog; policy: PasswordPolicy; now?: () => Date }) {
  const now = deps.now ?? (() => new Date());

  return {
    async run(bytes: Uint8Array, options: { dryRun?: boolean; actor: { kind: 'admin' | 'system' | 'service'; id?: string; client?: string } }): Promise<ImportReport> {
      const report: ImportReport = {
        file: { sha256: createHash('sha256').update(bytes).digest('hex') },
        dryRun: options.dryRun ?? false,
        applied: false,
        counts: { created: 0, updated: 0, unchanged: 0, refused: 0 },
        lines: [],
        removedAssignments: [],
      };
      // every run is recorded: what was applied, what was only checked, what was refused
      const record = (outcome: 'success' | 'refused', details: Record<string, unknown>, executor?: Db) =>
        deps.audit.record({ actorKind: options.actor.kind, actorId: options.actor.id ?? null, action: 'staff.import', outcome, details: { sha256: report.file.sha256, ...apiClientDetail(options.actor), ...details } }, executor);
      const parsed = parseStaffFile(bytes);
      if (!parsed.ok) {
        await record('refused', { reason: 'file' });
        return { ...report, fileProblem: parsed.message };
      }

      // one import at a time, from reading to writing: a second one (the same file sent twice)
      // plans against what the first wrote, instead of racing it to the same new accounts
      return deps.db.transaction().execute(async (trx) => {
        await sql`select pg_advisory_xact_lock(hashtext('iam:staff_import'))`.execute(trx);
        const refusals = new Map<number, Problem[]>();
        const refuse: Refuse = (line, field, message) => refusals.set(line, [...(refusals.get(line) ?? []), { field, message }]);
        for (const problem of parsed.problems) refuse(problem.line, problem.field, problem.message);

        const people = groupByPerson(parsed.rows, refuse);
        const existing = await loadAccounts(trx, [...people.keys()]);
        checkPeople(people, existing, refuse);
        const plan = await planAssignments(trx, people);
        const { outcomes, updates } = accountOutcomes(people, existing, plan);
        const lines = lineReport(parsed.rows, refusals, outcomes);
        const done: ImportReport = {
          ...report,
          lines,
          counts: countOutcomes(lines),
          removedAssignments: plan.removals.map(({ fiscalCode, schoolCode, role }) => ({ fiscalCode, schoolCode, role })),
        };
        if (done.counts.refused > 0 || done.dryRun) {
          await record(done.counts.refused > 0 ? 'refused' : 'success', { ...done.counts, dryRun: done.dryRun, ...(done.counts.refused > 0 ? { reason: 'lines' } : {}) }, trx);
          return done;
        }

        const created = await createAccounts(trx, [...people].filter(([cf]) => !existing.has(cf)).map(([, p]) => p), deps.policy, now());
        for (const { id, changes } of updates) await trx.updateTable('accounts').set({ ...changes, updated_at: now() }).where('id', '=', id).execute();
        await applyAssignments(trx, plan, (fiscalCode) => created.get(fiscalCode) ?? existing.get(fiscalCode)?.id ?? plan.accountIds.get(fiscalCode)!);
        await record('success', { ...done.counts, removedAssignments: done.removedAssignments.length }, trx);
        return { ...done, applied: true };
      });
    },
  };
}

const typeLabel = (type: AccountType) => (type === 'mi' ? 'MI' : 'nome.cognome');

type Problem = { field: Column | null; message: string };
type Refuse = (line: number, field: Column | null, message: string) => void;

/** What only the people as a whole (and the accounts they have) can say is wrong. */
function checkPeople(people: Map<string, Person>, existing: Map<string, ExistingAccount>, refuse: Refuse): void {
  for (const [fiscalCode, person] of people) {
    const account = existing.get(fiscalCode);
    if (account && account.account_type !== person.type) {
      refuse(person.first.line, 'ruolo', t('staff_import.type_change', { existing: typeLabel(account.account_type), wanted: typeLabel(person.type) }));
    }
    if (!person.first.institutionalEmail.endsWith(INSTITUTIONAL_DOMAIN[person.type])) {
      refuse(person.first.line, 'email_istituzionale', t('staff_import.institutional_domain', { domain: INSTITUTIONAL_DOMAIN[person.type] }));
    }
    if (!account && person.type === 'standard' && !baseUsername(person.first.givenName, person.first.familyName)) {
      refuse(person.first.line, 'nome', t('staff_import.no_username'));
    }
  }
}

/** Each person's outcome, and the changes to the accounts that exist. */
function accountOutcomes(people: Map<string, Person>, existing: Map<string, ExistingAccount>, plan: { touched: Set<string> }) {
  const outcomes = new Map<string, LineOutcome>();
  const updates: Array<{ id: string; changes: AccountUpdate }> = [];
  for (const [fiscalCode, person] of people) {
    const account = existing.get(fiscalCode);
    if (!account) {
      outcomes.set(fiscalCode, 'created');
      continue;
    }
    const changes = accountChanges(account, person.first);
    if (Object.keys(changes).length) updates.push({ id: account.id, changes });
    outcomes.set(fiscalCode, Object.keys(changes).length || plan.touched.has(fiscalCode) ? 'updated' : 'unchanged');
  }
  return { outcomes, updates };
}

/** One entry per line of the file that holds data, in order: its person's outcome, or why it was refused. */
function lineReport(rows: StaffRow[], refusals: Map<number, Problem[]>, outcomes: Map<string, LineOutcome>): ImportReport['lines'] {
  const lines: ImportReport['lines'] = rows.map((row) => {
    const problems = refusals.get(row.line);
    return problems ? { line: row.line, fiscalCode: row.fiscalCode, outcome: 'refused', problems } : { line: row.line, fiscalCode: row.fiscalCode, outcome: outcomes.get(row.fiscalCode)! };
  });
  // lines that did not even parse into a row
  const reported = new Set(rows.map((row) => row.line));
  for (const [line, problems] of refusals) if (!reported.has(line)) lines.push({ line, outcome: 'refused', problems });
  return lines.sort((a, b) => a.line - b.line);
}

function countOutcomes(lines: ImportReport['lines']): Record<LineOutcome, number> {
  const counts = { created: 0, updated: 0, unchanged: 0, refused: 0 };
  for (const line of lines) counts[line.outcome] += 1;
  return counts;
}

async function applyAssignments(trx: Db, plan: Awaited<ReturnType<typeof planAssignments>>, idOf: (fiscalCode: string) => string): Promise<void> {
  for (const batch of chunks(plan.additions)) {
    await trx.insertInto('school_assignments')
      .values(batch.map((a) => ({ account_id: idOf(a.fiscalCode), school_code: a.schoolCode, role: a.role, security_officer: a.securityOfficer })))
      .execute();
  }
  for (const a of plan.officerChanges) {
    await trx.updateTable('school_assignments').set({ security_officer: a.securityOfficer })
      .where('account_id', '=', idOf(a.fiscalCode)).where('school_code', '=', a.schoolCode).where('role', '=', a.role).execute();
  }
  for (const batch of chunks(plan.removals, 300)) {
    await trx.deleteFrom('school_assignments')
      .where((eb) => eb.or(batch.map((a) => eb.and([eb('account_id', '=', a.accountId), eb('school_code', '=', a.schoolCode), eb('role', '=', a.role)]))))
      .execute();
  }
}

/** The file's people by codice fiscale; a line that repeats another's assignment or contradicts its person is refused. */
function groupByPerson(rows: StaffRow[], refuse: Refuse): Map<string, Person> {
  const people = new Map<string, Person>();
  for (const row of rows) {
    const person = people.get(row.fiscalCode);
    if (!person) {
      people.set(row.fiscalCode, {
        first: row,
        lines: [row.line],
        type: MI_ROLES.has(row.role) ? 'mi' : 'standard',
        assignments: new Map([[`${row.schoolCode}|${row.role}`, { ...row }]]),
      });
      continue;
    }
    if (PERSON_FIELDS.some((field) => row[field] !== person.first[field])) {
      refuse(row.line, null, t('staff_import.person_differs', { line: person.first.line }));
      continue;
    }
    const key = `${row.schoolCode}|${row.role}`;
    const twin = person.assignments.get(key);
    if (twin) {
      refuse(row.line, 'codice_meccanografico', t('staff_import.duplicate', { line: twin.line }));
      continue;
    }
    person.lines.push(row.line);
    person.assignments.set(key, { ...row });
    if (MI_ROLES.has(row.role)) person.type = 'mi';
  }
  return people;
}

async function loadAccounts(db: Db, fiscalCodes: string[]): Promise<Map<string, ExistingAccount>> {
  const found = new Map<string, ExistingAccount>();
  for (const batch of chunks(fiscalCodes)) {
    const rows = await db
      .selectFrom('accounts')
      .select(['id', 'fiscal_code', 'account_type', 'given_name', 'family_name', 'birth_place', 'institutional_email', 'mailbox_state', 'personal_email'])
      .where('fiscal_code', 'in', batch)
      .execute();
    for (const row of rows) found.set(row.fiscal_code, row);
  }
  return found;
}

/** What the file changes in an account that exists: never its identity, never a personal e-mail the person set. */
function accountChanges(account: ExistingAccount, row: StaffRow): AccountUpdate {
  const changes: AccountUpdate = {};
  if (account.given_name !== row.givenName) changes.given_name = row.givenName;
  if (account.family_name !== row.familyName) changes.family_name = row.familyName;
  if (account.birth_place !== row.birthPlace) changes.birth_place = row.birthPlace;
  if (account.institutional_email !== row.institutionalEmail) changes.institutional_email = row.institutionalEmail;
  if (account.mailbox_state !== row.mailboxState) changes.mailbox_state = row.mailboxState;
  if (!account.personal_email && row.personalEmail) changes.personal_email = row.personalEmail;
  return changes;
}

interface PlannedAssignment {
  fiscalCode: string;
  schoolCode: string;
  role: SchoolRole;
  securityOfficer: boolean;
}

/** The assignments of the file's schools as they are, against the file: what to add, change and remove. */
async function planAssignments(db: Db, people: Map<string, Person>) {
  const schools = [...new Set([...people.values()].flatMap((p) => [...p.assignments.values()].map((a) => a.schoolCode)))];
  const current = new Map<string, PlannedAssignment & { accountId: string }>();
  for (const batch of chunks(schools)) {
    const rows = await db
      .selectFrom('school_assignments as sa')
      .innerJoin('accounts as a', 'a.id', 'sa.account_id')
      .select(['sa.account_id', 'sa.school_code', 'sa.role', 'sa.security_officer', 'a.fiscal_code'])
      .where('sa.school_code', 'in', batch)
      .execute();
    for (const r of rows) {
      current.set(assignmentKey(r.fiscal_code, r.school_code, r.role), { accountId: r.account_id, fiscalCode: r.fiscal_code, schoolCode: r.school_code, role: r.role, securityOfficer: r.security_officer });
    }
  }
  const additions: PlannedAssignment[] = [];
  const officerChanges: PlannedAssignment[] = [];
  const touched = new Set<string>();
  const wanted = new Set<string>();
  for (const [fiscalCode, person] of people) {
    for (const a of person.assignments.values()) {
      const key = assignmentKey(fiscalCode, a.schoolCode, a.role);
      wanted.add(key);
      const now = current.get(key);
      const planned = { fiscalCode, schoolCode: a.schoolCode, role: a.role, securityOfficer: a.securityOfficer };
      if (!now) additions.push(planned);
      else if (now.securityOfficer !== a.securityOfficer) officerChanges.push(planned);
      else continue;
      touched.add(fiscalCode);
    }
  }
  const removals = [...current].filter(([key]) => !wanted.has(key)).map(([, a]) => a);
  for (const r of removals) touched.add(r.fiscalCode);
  const accountIds = new Map(removals.map((r) => [r.fiscalCode, r.accountId]));
  return { additions, officerChanges, removals, touched, accountIds };
}

/** The new accounts, with usernames no one has; returns their ids by codice fiscale. */
async function createAccounts(trx: Db, people: Person[], policy: PasswordPolicy, at: Date): Promise<Map<string, string>> {
  const usernames = await assignUsernames(trx, people);
  const ids = new Map<string, string>();
  for (const batch of chunks(people, 500)) {
    const rows: NewAccountRow[] = batch.map(({ first: p, type }) => ({
      username: usernames.get(p.fiscalCode)!,
      account_type: type,
      given_name: p.givenName,
      family_name: p.familyName,
      fiscal_code: p.fiscalCode,
      birth_date: p.birthDate,
      birth_place: p.birthPlace,
      sex: p.sex,
      personal_email: p.personalEmail,
      institutional_email: p.institutionalEmail,
      mailbox_state: p.mailboxState,
      mobile_phone: null,
      ...NOTHING_YET,
      password_hash: NO_PASSWORD,
      password_changed_at: at,
      // spread: an import of thousands of accounts does not make one day of expiries
      password_expires_at: passwordExpiresAt(policy, type, p.fiscalCode, at),
    }));
    for (const r of await trx.insertInto('accounts').values(rows).returning(['id', 'fiscal_code']).execute()) ids.set(r.fiscal_code, r.id);
  }
  return ids;
}

/** nome.cognome with the first free number for standard accounts; MI and nine random digits for MI ones. */
async function assignUsernames(trx: Db, people: Person[]): Promise<Map<string, string>> {
  const chosen = new Map<string, string>();
  const standard = people.filter((p) => p.type === 'standard');
  const bases = [...new Set(standard.map((p) => baseUsername(p.first.givenName, p.first.familyName)!))];
  const taken = new Set<string>();
  for (const batch of chunks(bases)) {
    const rows = await trx
      .selectFrom('accounts')
      .select(sql<string>`lower(username)`.as('username'))
      .where(sql<string>`regexp_replace(lower(username), '[0-9]+$', '')`, 'in', batch)
      .execute();
    for (const r of rows) taken.add(r.username);
  }
  // where each base's search for a free number goes on from (many people share a name)
  const nextAttempt = new Map<string, number>();
  for (const p of standard) {
    const base = baseUsername(p.first.givenName, p.first.familyName)!;
    let attempt = nextAttempt.get(base) ?? 0;
    while (taken.has(usernameCandidate(base, attempt))) attempt += 1;
    const username = usernameCandidate(base, attempt);
    nextAttempt.set(base, attempt + 1);
    taken.add(username);
    chosen.set(p.first.fiscalCode, username);
  }
  let pending = people.filter((p) => p.type === 'mi');
  while (pending.length) {
    const proposed = new Map(pending.map((p) => [p.first.fiscalCode, `MI${randomInt(100_000_000, 1_000_000_000)}`]));
    const inUse = new Set<string>();
    for (const batch of chunks([...proposed.values()])) {
      for (const r of await trx.selectFrom('accounts').select('username').where('username', 'in', batch).execute()) inUse.add(r.username);
    }
    const seen = new Set(chosen.values());
    pending = pending.filter((p) => {
      const username = proposed.get(p.first.fiscalCode)!;
      if (inUse.has(username) || seen.has(username)) return true;
      seen.add(username);
      chosen.set(p.first.fiscalCode, username);
      return false;
    });
  }
  return chosen;
}
