import { parse } from 'csv-parse/sync';
import { z } from 'zod';

import { validateCodiceFiscale } from '../accounts/codice-fiscale.js';
import type { MailboxState } from '../accounts/account.js';
import type { SchoolRole } from '../db/schema.js';
import { t, type MessageKey, type Vars } from '../i18n/index.js';

/**
 * The staff file (docs/staff-import.md): UTF-8, `;` or `,` between fields, a header row
 * naming these columns in any order, one row per school assignment — a person serving two
 * schools, or with two roles, has two rows with the same personal data.
 */
export const COLUMNS = [
  'codice_fiscale',
  'cognome',
  'nome',
  'sesso',
  'data_nascita',
  'luogo_nascita',
  'email_istituzionale',
  'stato_casella',
  'email_personale',
  'codice_meccanografico',
  'ruolo',
  'responsabile_sicurezza',
] as const;
export type Column = (typeof COLUMNS)[number];
const OPTIONAL_COLUMNS: ReadonlySet<Column> = new Set(['email_personale', 'responsabile_sicurezza']);

/** Roles whose holders get MI accounts (DOMAIN.md §3); the others get nome.cognome accounts. */
export const MI_ROLES: ReadonlySet<SchoolRole> = new Set(['ds', 'dsga', 'assistente_amministrativo']);
const ROLES = ['ds', 'dsga', 'assistente_amministrativo', 'docente', 'ata'] as const satisfies readonly SchoolRole[];

/** Two letters (province), two for the kind of school, six more letters or digits: RMIC81500X. */
export const SCHOOL_CODE = /^[A-Z]{4}[A-Z0-9]{6}$/;

export interface StaffRow {
  /** the file's line number, header = 1 */
  line: number;
  fiscalCode: string;
  familyName: string;
  givenName: string;
  sex: 'M' | 'F';
  birthDate: string;
  birthPlace: string;
  institutionalEmail: string;
  mailboxState: MailboxState;
  personalEmail: string | null;
  schoolCode: string;
  role: SchoolRole;
  securityOfficer: boolean;
}

export interface LineProblem {
  line: number;
  /** the column at fault, or null for the row as a whole */
  field: Column | null;
  message: string;
}

export type ParsedFile =
  | { ok: true; rows: StaffRow[]; problems: LineProblem[] }
  | { ok: false; message: string };

const issue = (key: MessageKey, vars?: Vars) => ({ message: t(key, vars) });
const required = z.string().min(1, issue('staff_import.required'));

const isoDate = (text: string): string | null => {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text) ?? /^(\d{2})\/(\d{2})\/(\d{4})$/.exec(text);
  if (!m) return null;
  const [y, mo, d] = text.includes('/') ? [m[3], m[2], m[1]] : [m[1], m[2], m[3]];
  const iso = `${y}-${mo}-${d}`;
  const date = new Date(`${iso}T00:00:00Z`);
  return Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== iso ? null : iso;
};

const rowSchema = z
  .object({
    codice_fiscale: required.transform((v) => v.toUpperCase()),
    cognome: required,
    nome: required,
    sesso: z.string().transform((v) => v.toUpperCase()).pipe(z.enum(['M', 'F'], issue('staff_import.sex'))),
    data_nascita: required.transform((v, ctx) => isoDate(v) ?? (ctx.addIssue({ code: 'custom', ...issue('staff_import.birth_date') }), z.NEVER)),
    luogo_nascita: required,
    email_istituzionale: required.transform((v) => v.toLowerCase()).pipe(z.email(issue('staff_import.email'))),
    stato_casella: z.string().transform((v) => v.toUpperCase()).pipe(z.enum(['ATTIVA', 'SOSPESA', 'CESSATA'], issue('staff_import.mailbox_state'))),
    email_personale: z.union([z.literal(''), z.email(issue('staff_import.email'))]).default(''),
    codice_meccanografico: required.transform((v) => v.toUpperCase()).pipe(z.string().regex(SCHOOL_CODE, issue('staff_import.school_code'))),
    ruolo: z.string().transform((v) => v.toLowerCase()).pipe(z.enum(ROLES, issue('staff_import.role'))),
    responsabile_sicurezza: z
      .string()
      .default('')
      .transform((v) => v.toLowerCase())
      .pipe(z.enum(['', 'sì', 'si', 'no', 'true', 'false', '1', '0', 'x'], issue('staff_import.officer_flag')))
      .transform((v) => ['sì', 'si', 'true', '1', 'x'].includes(v)),
  })
  .superRefine((row, ctx) => {
    if (row.responsabile_sicurezza && !MI_ROLES.has(row.ruolo)) {
      ctx.addIssue({ code: 'custom', path: ['responsabile_sicurezza'], ...issue('staff_import.officer_role') });
    }
    if (!row.data_nascita) return;
    const cf = validateCodiceFiscale(row.codice_fiscale, { givenName: row.nome, familyName: row.cognome, birthDate: row.data_nascita, sex: row.sesso });
    if (!cf.valid) ctx.addIssue({ code: 'custom', path: ['codice_fiscale'], ...issue('staff_import.fiscal_code', { problems: cf.problems.join(', ') }) });
  });

/** Reads the file: a file-level refusal (encoding, header), or rows and the problems of the rows that failed. */
export function parseStaffFile(bytes: Uint8Array): ParsedFile {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { ok: false, message: t('staff_import.not_utf8') };
  }
  text = text.replace(/^\uFEFF/, '');
  const headerLine = text.split(/\r?\n/, 1)[0] ?? '';
  if (!headerLine.trim()) return { ok: false, message: t('staff_import.empty') };
  const delimiter = (headerLine.match(/;/g)?.length ?? 0) >= (headerLine.match(/,/g)?.length ?? 0) ? ';' : ',';

  let records: Array<{ record: string[]; info: { lines: number } }>;
  try {
    records = parse(text, { delimiter, trim: true, skip_empty_lines: true, relax_column_count: true, info: true }) as unknown as typeof records;
  } catch (error) {
    const { lines, message } = error as { lines?: number; message: string };
    return { ok: false, message: t('staff_import.unreadable', { line: lines ?? 1, reason: message.replace(/^Invalid [^:]*: /, '') }) };
  }
  const [header, ...data] = records;
  if (!header || data.length === 0) return { ok: false, message: t('staff_import.empty') };
  const names = header.record.map((name) => name.toLowerCase());
  const missing = COLUMNS.filter((c) => !OPTIONAL_COLUMNS.has(c) && !names.includes(c));
  if (missing.length) return { ok: false, message: t('staff_import.missing_columns', { columns: missing.join(', ') }) };
  const unknown = names.filter((n) => !(COLUMNS as readonly string[]).includes(n));
  if (unknown.length) return { ok: false, message: t('staff_import.unknown_columns', { columns: unknown.join(', ') }) };

  const rows: StaffRow[] = [];
  const problems: LineProblem[] = [];
  for (const { record, info } of data) {
    const line = info.lines;
    const fields = Object.fromEntries(names.map((name, i) => [name, record[i] ?? '']));
    const parsed = rowSchema.safeParse(fields);
    if (!parsed.success) {
      for (const problem of parsed.error.issues) {
        problems.push({ line, field: (problem.path[0] as Column | undefined) ?? null, message: problem.message });
      }
      continue;
    }
    const r = parsed.data;
    rows.push({
      line,
      fiscalCode: r.codice_fiscale,
      familyName: r.cognome,
      givenName: r.nome,
      sex: r.sesso,
      birthDate: r.data_nascita,
      birthPlace: r.luogo_nascita,
      institutionalEmail: r.email_istituzionale,
      mailboxState: r.stato_casella,
      personalEmail: r.email_personale || null,
      schoolCode: r.codice_meccanografico,
      role: r.ruolo,
      securityOfficer: r.responsabile_sicurezza,
    });
  }
  return { ok: true, rows, problems };
}
