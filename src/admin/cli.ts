import { createAuditLog } from '../audit/audit-log.js';
import { ConfigError, loadConfig } from '../config.js';
import { createDatabase, pgliteDirectory } from '../db/index.js';
import { migrateToLatest } from '../db/migrate.js';
import { createAdministrators, type GrantOutcome, type RevokeOutcome } from './administrators.js';

const USAGE = `uso: npm run admin -- admins <comando> [--json]

  admins list               elenca gli amministratori
  admins grant <username>   concede il ruolo di amministratore
  admins revoke <username>  revoca il ruolo (mai all'ultimo amministratore)

Esito: 0 fatto (o già così), 1 rifiutato, 2 comando non valido.
Gli amministratori entrano in /admin con la verifica in due passaggi.`;

const MESSAGES: Record<GrantOutcome | RevokeOutcome, string> = {
  granted: 'Ruolo di amministratore concesso a {u}.',
  already: '{u} è già amministratore.',
  no_account: 'Nessuna utenza con username {u}.',
  revoked: 'Ruolo di amministratore revocato a {u}.',
  not_admin: '{u} non è amministratore.',
  last_one: '{u} è l\'ultimo amministratore: il ruolo non può essere revocato.',
};
const REFUSED: ReadonlySet<string> = new Set(['no_account', 'last_one']);

/** `npm run admin -- admins list|grant|revoke …`: the administrator role from the command line. */
async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const json = args.includes('--json');
  const words = args.filter((a) => !a.startsWith('--'));
  const unknown = args.filter((a) => a.startsWith('--') && a !== '--json' && a !== '--help');
  const [group, command, username, ...rest] = words;
  const valid = group === 'admins' && ((command === 'list' && !username) || ((command === 'grant' || command === 'revoke') && username && !rest.length));
  if (args.includes('--help') || !valid || unknown.length) {
    (args.includes('--help') ? console.log : console.error)(USAGE);
    return args.includes('--help') ? 0 : 2;
  }

  const config = loadConfig();
  const db = await createDatabase({ databaseUrl: config.databaseUrl, pgliteDir: pgliteDirectory(config.dataDir) });
  try {
    await migrateToLatest(db);
    const administrators = createAdministrators({ db, audit: createAuditLog(db) });
    if (command === 'list') {
      const list = await administrators.list();
      if (json) console.log(JSON.stringify(list, null, 2));
      else console.log(list.length ? list.map((a) => `${a.username.padEnd(24)} ${a.name}  (dal ${a.grantedAt.toISOString().slice(0, 10)})`).join('\n') : 'Nessun amministratore.');
      return 0;
    }
    const outcome = command === 'grant' ? await administrators.grant(username!, { kind: 'system' }) : await administrators.revoke(username!, { kind: 'system' });
    if (json) console.log(JSON.stringify({ outcome, username }));
    else (REFUSED.has(outcome) ? console.error : console.log)(MESSAGES[outcome].replace('{u}', username!));
    return REFUSED.has(outcome) ? 1 : 0;
  } finally {
    await db.destroy();
  }
}

main().then((code) => process.exit(code), (error: unknown) => {
  console.error(`iam-istruzione admin: ${error instanceof ConfigError ? error.message : String(error)}`);
  process.exit(1);
});
