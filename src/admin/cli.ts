import { createAuditLog } from '../audit/audit-log.js';
import { ConfigError, loadConfig } from '../config.js';
import { createDatabase, pgliteDirectory } from '../db/index.js';
import { migrateToLatest } from '../db/migrate.js';
import { createAdministrators } from './administrators.js';
import { createEnablementAdministration } from '../enablement/administration.js';
import { adminCommand, parse, type CommandResult } from './command.js';
import { createServiceAdministration } from '../services/administration.js';
import { loadKeysEncryptionKey } from '../provider/key-encryption.js';
import { createKeyAdministration } from '../provider/keys.js';
import { createInitialAccessTokens } from '../services/initial-access-tokens.js';

/** `npm run admin -- admins …|services …|enablements …`: the administration from the command line (whoever can reach the database). */
async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const parsed = parse(args);
  // help and usage without opening the database
  if ('help' in parsed) return print({ code: 0, stdout: parsed.help, stderr: '' });
  if ('usage' in parsed) return print({ code: 2, stdout: '', stderr: parsed.usage });
  const config = loadConfig();
  const db = await createDatabase({ databaseUrl: config.databaseUrl, pgliteDir: pgliteDirectory(config.dataDir) });
  try {
    await migrateToLatest(db);
    const audit = createAuditLog(db);
    return print(await adminCommand(args, {
      administrators: createAdministrators({ db, audit }),
      enablements: createEnablementAdministration({ db, audit }),
      services: createServiceAdministration({ db, audit, rules: { production: config.env === 'production' } }),
      keys: createKeyAdministration({ db, audit, kek: await loadKeysEncryptionKey(config) }),
      initialAccessTokens: createInitialAccessTokens({ db, audit }),
    }));
  } finally {
    await db.destroy();
  }
}

function print(result: CommandResult): number {
  if (result.stdout) console.log(result.stdout);
  if (result.stderr) console.error(result.stderr);
  return result.code;
}

/** PostgreSQL's insufficient_privilege: a database role that may not administer. */
const NOT_ALLOWED = '42501';

main().then((code) => process.exit(code), (error: unknown) => {
  const codeOf = (e: unknown): string | undefined => (e as { code?: string })?.code ?? ((e as { cause?: unknown })?.cause ? codeOf((e as { cause: unknown }).cause) : undefined);
  const denied = codeOf(error) === NOT_ALLOWED;
  const reason = denied
    ? 'la connessione al database (DATABASE_URL) non ha i permessi dell\'amministrazione: nulla è cambiato.'
    : error instanceof ConfigError ? error.message : String(error);
  console.error(`iam-istruzione admin: ${reason}`);
  process.exit(1);
});
