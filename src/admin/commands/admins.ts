import type { GrantOutcome, RevokeOutcome } from '../administrators.js';
import { done, refused, type CommandGroup } from './group.js';

const MESSAGES: Record<GrantOutcome | RevokeOutcome, string> = {
  granted: 'Ruolo di amministratore concesso a {u}.',
  already: '{u} è già amministratore.',
  no_account: 'Nessuna utenza con username {u}.',
  revoked: 'Ruolo di amministratore revocato a {u}.',
  not_admin: '{u} non è amministratore.',
  last_one: '{u} è l\'ultimo amministratore: il ruolo non può essere revocato.',
};
const REFUSED: ReadonlySet<string> = new Set(['no_account', 'last_one']);

export const adminsGroup: CommandGroup = {
  name: 'admins',
  summary: `  admins list                      elenca gli amministratori
  admins grant <username>          concede il ruolo di amministratore
  admins revoke <username>         revoca il ruolo (mai all'ultimo amministratore)`,
  help: `uso: npm run admin -- admins <comando> [--json]

  list                 gli amministratori: username, nome, dal
  grant <username>     concede il ruolo (l'utenza entra in /admin con la verifica in due passaggi)
  revoke <username>    revoca il ruolo; mai all'ultimo amministratore

Esito: 0 fatto (o già così), 1 rifiutato, 2 comando non valido.`,
  options: {},
  accepts: ([command, username, ...rest]) => (command === 'list' && !username) || ((command === 'grant' || command === 'revoke') && !!username && rest.length === 0),
  async run([command, username], values, { administrators }) {
    const json = values.json === true;
    if (command === 'list') {
      const list = await administrators.list();
      return done(json
        ? JSON.stringify(list, null, 2)
        : list.length ? list.map((a) => `${a.username.padEnd(24)} ${a.name}  (dal ${a.grantedAt.toISOString().slice(0, 10)})`).join('\n') : 'Nessun amministratore.');
    }
    const outcome = command === 'grant' ? await administrators.grant(username!, { kind: 'system' }) : await administrators.revoke(username!, { kind: 'system' });
    const text = MESSAGES[outcome].replace('{u}', username!);
    if (REFUSED.has(outcome)) return refused(text, json, { outcome, username });
    return done(json ? JSON.stringify({ outcome, username }) : text);
  },
};
