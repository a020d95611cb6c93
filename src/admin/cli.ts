import { createAuditLog } from '../audit/audit-log.js';
import { ConfigError, loadConfig } from '../config.js';
import { createDatabase, pgliteDirectory } from '../db/index.js';
import { migrateToLatest } from '../db/migrate.js';
import { createAdministrators } from './administrators.js';
import { createEnablementAdministration } from '../enablement/administration.js';
import { adminCommand, parse, USAGE, type CommandResult } from './command.js';

/** `npm run admin -- admins …|enablements …`: the administrator role and enablements from the command line. */
async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const parsed = parse(args);
  // help and usage without opening the database
  if (!('command' in parsed)) return print('help' in parsed ? { code: 0, stdout: USAGE, stderr: '' } : { code: 2, stdout: '', stderr: USAGE });
  const config = loadConfig();
  const db = await createDatabase({ databaseUrl: config.databaseUrl, pgliteDir: pgliteDirectory(config.dataDir) });
  try {
    await migrateToLatest(db);
    const audit = createAuditLog(db);
    return print(await adminCommand(args, { administrators: createAdministrators({ db, audit }), enablements: createEnablementAdministration({ db, audit }) }));
  } finally {
    await db.destroy();
  }
}

function print(result: CommandResult): number {
  if (result.stdout) console.log(result.stdout);
  if (result.stderr) console.error(result.stderr);
  return result.code;
}

main().then((code) => process.exit(code), (error: unknown) => {
  console.error(`iam-istruzione admin: ${error instanceof ConfigError ? error.message : String(error)}`);
  process.exit(1);
});
