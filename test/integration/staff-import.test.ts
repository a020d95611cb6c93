import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomInt } from 'node:crypto';

import { SPID_LEVEL_1_POLICY } from '../../src/accounts/password-policy.js';
import { createAuditLog } from '../../src/audit/audit-log.js';
import { createStaffImport, type ImportReport } from '../../src/staff/import.js';
import { FormBrowser } from '../support/browser.js';
import { relyingParty, signIn } from '../support/oidc.js';
import { startTestServer, testPerson, testService, type TestServer } from '../support/server.js';

let server: TestServer;
let importer: ReturnType<typeof createStaffImport>;

beforeAll(async () => {
  server = await startTestServer({ services: [testService({ id: 'servizio-personale', name: 'Servizio Personale' })] });
  importer = createStaffImport({ db: server.db, audit: createAuditLog(server.db), policy: SPID_LEVEL_1_POLICY });
});
afterAll(() => server.close());

const HEADER = 'codice_fiscale;cognome;nome;sesso;data_nascita;luogo_nascita;email_istituzionale;stato_casella;email_personale;codice_meccanografico;ruolo;responsabile_sicurezza';
const LETTERS = 'ABCDEFGHILMNPRSTUVZ';

/** A school code nobody else uses (the database may be shared by test files and runs). */
const newSchool = () => `RM${'IC'}${Array.from({ length: 5 }, () => randomInt(10)).join('')}${LETTERS[randomInt(LETTERS.length)]}`;

interface Staff {
  fiscalCode: string;
  familyName: string;
  givenName: string;
  sex: 'M' | 'F';
  birthDate: string;
  email: string;
}

/** A new person, with an institutional address of the domain their role calls for. */
function staff(mi: boolean): Staff {
  const p = testPerson();
  const local = `${p.givenName}.${p.familyName}${randomInt(1e6)}`.toLowerCase();
  return { fiscalCode: p.fiscalCode, familyName: p.familyName, givenName: p.givenName, sex: p.sex, birthDate: p.birthDate, email: `${local}@${mi ? 'istruzione.it' : 'posta.istruzione.it'}` };
}

const line = (s: Staff, school: string, role: string, officer = '', mailbox = 'ATTIVA') =>
  [s.fiscalCode, s.familyName, s.givenName, s.sex, s.birthDate, 'Roma', s.email, mailbox, '', school, role, officer].join(';');

const file = (...lines: string[]) => Buffer.from([HEADER, ...lines].join('\n') + '\n', 'utf8');
const run = (bytes: Uint8Array, dryRun = false) => importer.run(bytes, { dryRun, actor: { kind: 'admin' } });

const accountOf = (fiscalCode: string) => server.db.selectFrom('accounts').selectAll().where('fiscal_code', '=', fiscalCode).executeTakeFirst();
const assignmentsOf = async (fiscalCode: string) =>
  (await server.db.selectFrom('school_assignments as sa').innerJoin('accounts as a', 'a.id', 'sa.account_id')
    .select(['sa.school_code', 'sa.role', 'sa.security_officer']).where('a.fiscal_code', '=', fiscalCode).orderBy('sa.school_code').orderBy('sa.role').execute())
    .map((r) => `${r.school_code} ${r.role}${r.security_officer ? ' officer' : ''}`);

const outcomes = (report: ImportReport) => report.lines.map((l) => `${l.line} ${l.outcome}`);

describe('staff import', () => {
  it('creates MI and nome.cognome accounts with their schools, none with a usable password, and a second run changes nothing', async () => {
    const [school, other] = [newSchool(), newSchool()];
    const [head, clerk, teacher] = [staff(true), staff(true), staff(false)];
    const bytes = file(line(head, school, 'ds', 'sì'), line(clerk, school, 'assistente_amministrativo'), line(clerk, other, 'assistente_amministrativo', 'sì'), line(teacher, school, 'docente'));

    const first = await run(bytes);
    expect(first).toMatchObject({ applied: true, counts: { created: 4, updated: 0, unchanged: 0, refused: 0 }, removedAssignments: [] });
    const headAccount = (await accountOf(head.fiscalCode))!;
    expect(headAccount).toMatchObject({ account_type: 'mi', institutional_email: head.email, mailbox_state: 'ATTIVA', password_hash: '!' });
    expect(headAccount.username).toMatch(/^MI\d{9}$/);
    expect((await accountOf(teacher.fiscalCode))!.username).toMatch(/^[a-z]+\.[a-z]+\d*$/);
    expect(await assignmentsOf(clerk.fiscalCode)).toEqual([`${other} assistente_amministrativo officer`, `${school} assistente_amministrativo`].sort());
    // the expiry is within the policy's spread of its maximum age
    const days = (headAccount.password_expires_at!.getTime() - headAccount.password_changed_at.getTime()) / 86_400_000;
    expect(days).toBeLessThanOrEqual(SPID_LEVEL_1_POLICY.maxAgeDays.mi);
    expect(days).toBeGreaterThan(SPID_LEVEL_1_POLICY.maxAgeDays.mi - SPID_LEVEL_1_POLICY.expirySpreadDays);

    // nothing signs in to an imported account before a reset
    const rp = await relyingParty(server.url, server.services[0]!);
    const page = (await signIn(new FormBrowser(server.url), rp, { username: headAccount.username, password: '!' })).page;
    expect(page.response.status).toBe(401);

    const second = await run(bytes);
    expect(second).toMatchObject({ applied: true, counts: { created: 0, updated: 0, unchanged: 4, refused: 0 } });
    expect((await accountOf(head.fiscalCode))!.updated_at).toEqual(headAccount.updated_at);
    const entries = await server.db.selectFrom('audit_log').select('details').where('action', '=', 'staff.import').orderBy('id', 'desc').limit(2).execute();
    expect(entries.map((e) => e.details)).toEqual([
      expect.objectContaining({ sha256: first.file.sha256, unchanged: 4 }),
      expect.objectContaining({ sha256: first.file.sha256, created: 4 }),
    ]);
  });

  it('takes the file as the truth for its schools: changed data and roles, an officer profile withdrawn, an assignment removed', async () => {
    const school = newSchool();
    const [head, clerk, teacher] = [staff(true), staff(true), staff(false)];
    await run(file(line(head, school, 'ds', 'sì'), line(clerk, school, 'dsga', 'sì'), line(teacher, school, 'docente')));

    const report = await run(file(line(head, school, 'ds', 'no', 'SOSPESA'), line(clerk, school, 'dsga', 'sì')));
    expect(outcomes(report)).toEqual(['2 updated', '3 unchanged']);
    expect(report.removedAssignments).toEqual([{ fiscalCode: teacher.fiscalCode, schoolCode: school, role: 'docente' }]);
    expect((await accountOf(head.fiscalCode))!.mailbox_state).toBe('SOSPESA');
    expect(await assignmentsOf(head.fiscalCode)).toEqual([`${school} ds`]);
    expect(await assignmentsOf(teacher.fiscalCode)).toEqual([]);
    // the account stays: it may serve another school, or sign in to other services
    expect(await accountOf(teacher.fiscalCode)).toBeDefined();
  });

  it('refuses a file with bad lines whole, saying which line and field, and writes nothing', async () => {
    const school = newSchool();
    const [good, badCf, teacher, clerk] = [staff(true), staff(true), staff(false), staff(true)];
    const wrongCheck = badCf.fiscalCode.slice(0, 15) + (badCf.fiscalCode.endsWith('A') ? 'B' : 'A');
    const report = await run(file(
      line(good, school, 'ds'),
      line({ ...badCf, fiscalCode: wrongCheck }, school, 'dsga'),
      line(teacher, 'ROMA1', 'docente'),
      line(teacher, school, 'docente', 'sì'),
      line({ ...clerk, email: clerk.email.replace('@istruzione.it', '@gmail.com') }, school, 'dsga'),
      line({ ...good, email: `altro.${good.email}` }, newSchool(), 'ds'),
      line(good, school, 'ds'),
    ));
    expect(report.applied).toBe(false);
    expect(report.counts).toEqual({ created: 1, updated: 0, unchanged: 0, refused: 6 });
    const problems = report.lines.filter((l) => l.outcome === 'refused').map((l) => [l.line, l.problems!.map((p) => p.field)]);
    expect(problems).toEqual([
      [3, ['codice_fiscale']],
      [4, ['codice_meccanografico']],
      [5, ['responsabile_sicurezza']],
      [6, ['email_istituzionale']],
      [7, [null]],
      [8, ['codice_meccanografico']],
    ]);
    expect(report.lines.find((l) => l.line === 6)!.problems![0]!.message).toContain('@istruzione.it');
    expect(report.lines.find((l) => l.line === 7)!.problems![0]!.message).toContain('riga 2');
    expect(report.lines.find((l) => l.line === 8)!.problems![0]!.message).toBe('Riga ripetuta: stessa scuola e stesso ruolo della riga 2.');
    expect(await accountOf(good.fiscalCode)).toBeUndefined();
  });

  it('answers a dry run with what it would do and writes nothing', async () => {
    const person = staff(false);
    const report = await run(file(line(person, newSchool(), 'docente')), true);
    expect(report).toMatchObject({ dryRun: true, applied: false, counts: { created: 1 } });
    expect(await accountOf(person.fiscalCode)).toBeUndefined();
  });

  it('reads a comma-separated file with a byte-order mark and dates as GG/MM/AAAA', async () => {
    const person = staff(false);
    const [y, m, d] = person.birthDate.split('-');
    const text = '\uFEFF' + HEADER.replaceAll(';', ',') + '\n' + line({ ...person, birthDate: `${d}/${m}/${y}` }, newSchool(), 'docente').replaceAll(';', ',') + '\n';
    expect((await run(Buffer.from(text, 'utf8'))).counts.created).toBe(1);
    expect((await accountOf(person.fiscalCode))!.birth_date).toBe(person.birthDate);
  });

  it.each([
    ['a file not in UTF-8', Buffer.from(HEADER + '\nà;\n', 'latin1'), 'Il file non è in UTF-8'],
    ['a header without a column', Buffer.from(HEADER.replace('ruolo;', '') + '\n' + 'x\n'), 'mancano le colonne: ruolo'],
    ['a header with an unknown column', Buffer.from(HEADER + ';telefono\nx\n'), 'colonne sconosciute: telefono'],
    ['an empty file', Buffer.from(''), 'Il file è vuoto'],
  ])('refuses %s before reading any line', async (_what, bytes, message) => {
    const report = await run(bytes);
    expect(report.fileProblem).toContain(message);
    expect(report.applied).toBe(false);
  });

  it('refuses to turn an existing nome.cognome account into an MI one', async () => {
    const person = testPerson();
    await server.deps.provisioning.provision(person);
    const as = { fiscalCode: person.fiscalCode, familyName: person.familyName, givenName: person.givenName, sex: person.sex, birthDate: person.birthDate, email: 'x.y@istruzione.it' };
    const report = await run(file(line(as, newSchool(), 'dsga')));
    expect(report.lines[0]).toMatchObject({ outcome: 'refused', problems: [{ field: 'ruolo', message: expect.stringContaining("un'utenza nome.cognome") }] });
  });

  it('lets one of two imports of the same file at once create the accounts, and the other find them unchanged', async () => {
    const school = newSchool();
    const people = Array.from({ length: 20 }, () => staff(true));
    const bytes = file(...people.map((p) => line(p, school, 'assistente_amministrativo')));
    const [a, b] = await Promise.all([run(bytes), run(bytes)]);
    expect([a.counts.created, b.counts.created].sort()).toEqual([0, 20]);
    expect([a.counts.unchanged, b.counts.unchanged].sort()).toEqual([0, 20]);
    const usernames = await server.db.selectFrom('accounts').select('username').where('fiscal_code', 'in', people.map((p) => p.fiscalCode)).execute();
    expect(new Set(usernames.map((u) => u.username)).size).toBe(20);
  });

  it('runs from the command line: npm run import-staff -- file.csv [--dry-run] [--json]', () => {
    const dir = mkdtempSync(join(tmpdir(), 'iam-import-cli-'));
    const path = join(dir, 'staff.csv');
    const person = staff(true);
    writeFileSync(path, file(line(person, newSchool(), 'dsga', 'sì')));
    const env = { ...process.env, DATA_DIR: join(dir, 'data'), LOG_LEVEL: 'silent' };
    const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'src/staff/cli.ts', ...args], { env, encoding: 'utf8' });

    const dry = cli(path, '--dry-run');
    expect(dry.status).toBe(0);
    expect(dry.stdout).toContain('Righe: 1 nuove utenze, 0 aggiornate, 0 invariate, 0 rifiutate');
    expect(dry.stdout).toContain('nessuna modifica scritta');
    const applied = cli(path, '--json');
    expect(applied.status).toBe(0);
    expect(JSON.parse(applied.stdout)).toMatchObject({ applied: true, counts: { created: 1 } });
    expect(cli(path).stdout).toContain('0 nuove utenze, 0 aggiornate, 1 invariate');

    writeFileSync(path, file(line(person, 'XX', 'dsga')));
    const refused = cli(path);
    expect(refused.status).toBe(1);
    expect(refused.stdout).toContain('riga 2, codice_meccanografico: Codice meccanografico non valido');
    expect(cli().status).toBe(2);
  }, 60_000);
});
