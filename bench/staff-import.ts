/**
 * The staff import at scale (issue 14): a file of BENCH_IMPORT_ROWS rows (default 100,000;
 * about 80,000 people, one in four at a second school) imported into an empty database, then
 * the same file again (every line unchanged). Prints JSON: each run's time and counts, and
 * this process's peak resident memory. The database is a PGlite of its own in a temporary
 * directory, or with DATABASE_URL a database of its own on that server, dropped at the end.
 *
 *   npx tsx bench/staff-import.ts     (bench/run.ts runs it)
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { computeCodiceFiscale } from '../src/accounts/codice-fiscale.js';
import { SPID_LEVEL_1_POLICY } from '../src/accounts/password-policy.js';
import { createAuditLog } from '../src/audit/audit-log.js';
import { createDatabase } from '../src/db/index.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { createStaffImport } from '../src/staff/import.js';
import { residentBytes } from './stampede.js';

const ROWS = Number(process.env.BENCH_IMPORT_ROWS ?? 100_000);
const GIVEN = ['Alba', 'Bice', 'Carla', 'Dora', 'Elsa', 'Fulvia', 'Gemma', 'Ilda', 'Lucia', 'Marta', 'Nives', 'Olga', 'Pia', 'Rina', 'Sara', 'Tina', 'Ugolina', 'Vera', 'Zita', 'Wanda'];
const FAMILY = ['Bassi', 'Conti', 'Dotti', 'Ferri', 'Galli', 'Lodi', 'Masi', 'Neri', 'Pace', 'Rizzi', 'Sala', 'Testa', 'Villa', 'Zani', 'Bruno', 'Cirillo', 'Fabbri', 'Gatti', 'Longo', 'Marini'];
const ROLES = ['docente', 'docente', 'docente', 'docente', 'docente', 'docente', 'docente', 'ata', 'assistente_amministrativo', 'dsga'] as const;

/** The file: distinct people (every codice fiscale once), 1,000 schools. */
function staffFile(rows: number): Buffer {
  const lines = ['codice_fiscale;cognome;nome;sesso;data_nascita;luogo_nascita;email_istituzionale;stato_casella;email_personale;codice_meccanografico;ruolo;responsabile_sicurezza'];
  const seen = new Set<string>();
  const school = (n: number) => `RMIC${String(10000 + (n % 1000)).padStart(5, '0')}X`;
  for (let i = 0; lines.length - 1 < rows; i++) {
    const givenName = GIVEN[i % GIVEN.length]!;
    const familyName = FAMILY[Math.floor(i / GIVEN.length) % FAMILY.length]!;
    const birthDate = new Date(Date.UTC(1960, 0, 1) + Math.floor(i / (GIVEN.length * FAMILY.length)) * 86_400_000).toISOString().slice(0, 10);
    const fiscalCode = computeCodiceFiscale({ givenName, familyName, birthDate, sex: 'F', placeCode: 'H501' });
    if (seen.has(fiscalCode)) continue;
    seen.add(fiscalCode);
    const role = ROLES[i % ROLES.length]!;
    const domain = role === 'docente' || role === 'ata' ? 'posta.istruzione.it' : 'istruzione.it';
    const person = [fiscalCode, familyName, givenName, 'F', birthDate, 'Roma', `${givenName}.${familyName}.${i}@${domain}`.toLowerCase(), 'ATTIVA', ''];
    lines.push([...person, school(i), role, role === 'dsga' ? 'sì' : ''].join(';'));
    if (i % 4 === 0 && lines.length - 1 < rows) lines.push([...person, school(i + 1), role, ''].join(';'));
  }
  return Buffer.from(lines.join('\n') + '\n', 'utf8');
}

async function withDatabase<T>(work: (db: Awaited<ReturnType<typeof createDatabase>>, where: string) => Promise<T>): Promise<T> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    const dir = mkdtempSync(join(tmpdir(), 'iam-bench-import-'));
    const db = await createDatabase({ pgliteDir: join(dir, 'pglite') });
    try {
      return await work(db, 'PGlite (a temporary directory)');
    } finally {
      await db.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const name = `iam_bench_import_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const db = await createDatabase({ databaseUrl: url.toString() });
  try {
    return await work(db, 'PostgreSQL (a database of its own on DATABASE_URL)');
  } finally {
    await db.destroy();
    await admin.query(`drop database ${name}`);
    await admin.end();
  }
}

const bytes = staffFile(ROWS);
let peakRss = residentBytes(process.pid);
const sampler = setInterval(() => (peakRss = Math.max(peakRss, residentBytes(process.pid))), 100);
const result = await withDatabase(async (db, where) => {
  await migrateToLatest(db);
  const importer = createStaffImport({ db, audit: createAuditLog(db), policy: SPID_LEVEL_1_POLICY });
  const timed = async () => {
    const t0 = performance.now();
    const report = await importer.run(bytes, { actor: { kind: 'admin' } });
    return { seconds: (performance.now() - t0) / 1000, counts: report.counts, applied: report.applied };
  };
  const first = await timed();
  const second = await timed();
  return { where, rows: ROWS, fileBytes: bytes.length, first, second };
});
clearInterval(sampler);
process.stdout.write(JSON.stringify({ ...result, peakRssBytes: peakRss }) + '\n');
