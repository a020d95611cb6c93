import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

import { SPID_LEVEL_1_POLICY } from '../accounts/password-policy.js';
import { createAuditLog } from '../audit/audit-log.js';
import { ConfigError, loadConfig } from '../config.js';
import { createDatabase, pgliteDirectory } from '../db/index.js';
import { migrateToLatest } from '../db/migrate.js';
import { createStaffImport, type ImportReport } from './import.js';

const USAGE = 'uso: npm run import-staff -- <file.csv> [--dry-run] [--json]   (formato: docs/staff-import.md)';

/** `npm run import-staff -- file.csv [--dry-run] [--json]`: exit 0 when applied (or valid, with --dry-run), 1 when refused. */
async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const files = args.filter((a) => !a.startsWith('--'));
  const unknown = args.filter((a) => a.startsWith('--') && a !== '--dry-run' && a !== '--json');
  if (files.length !== 1 || unknown.length) {
    console.error(USAGE);
    return 2;
  }
  const path = resolve(process.env.INIT_CWD ?? process.cwd(), files[0]!);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    console.error(`iam-istruzione import-staff: impossibile leggere ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    return 2;
  }
  const config = loadConfig();
  const db = await createDatabase({ databaseUrl: config.databaseUrl, pgliteDir: pgliteDirectory(config.dataDir) });
  try {
    await migrateToLatest(db);
    const importer = createStaffImport({ db, audit: createAuditLog(db), policy: SPID_LEVEL_1_POLICY });
    const report = await importer.run(bytes, { dryRun: args.includes('--dry-run'), actor: { kind: 'admin' } });
    console.log(args.includes('--json') ? JSON.stringify(report, null, 2) : describe(report));
    return report.fileProblem || report.counts.refused > 0 ? 1 : 0;
  } finally {
    await db.destroy();
  }
}

function describe(report: ImportReport): string {
  if (report.fileProblem) return `File rifiutato: ${report.fileProblem}\nNessuna modifica.`;
  const { created, updated, unchanged, refused } = report.counts;
  const lines = [
    `Righe: ${created} nuove utenze, ${updated} aggiornate, ${unchanged} invariate, ${refused} rifiutate; assegnazioni rimosse: ${report.removedAssignments.length}.`,
  ];
  for (const line of report.lines.filter((l) => l.outcome === 'refused')) {
    for (const problem of line.problems ?? []) lines.push(`  riga ${line.line}${problem.field ? `, ${problem.field}` : ''}: ${problem.message}`);
  }
  for (const removed of report.removedAssignments) lines.push(`  rimossa: ${removed.fiscalCode} da ${removed.schoolCode} (${removed.role})`);
  lines.push(
    report.applied
      ? 'Importazione completata.'
      : refused > 0
        ? 'Nessuna modifica: correggi le righe indicate e importa di nuovo il file intero.'
        : 'Prova (--dry-run): nessuna modifica scritta.',
  );
  return lines.join('\n');
}

main().then((code) => process.exit(code), (error: unknown) => {
  console.error(`iam-istruzione import-staff: ${error instanceof ConfigError ? error.message : String(error)}`);
  process.exit(1);
});
