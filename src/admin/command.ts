import type { EnablementAdministration } from '../enablement/administration.js';
import type { Administrators, GrantOutcome, RevokeOutcome } from './administrators.js';

export const USAGE = `uso: npm run admin -- <gruppo> <comando> [--json]

  admins list                      elenca gli amministratori
  admins grant <username>          concede il ruolo di amministratore
  admins revoke <username>         revoca il ruolo (mai all'ultimo amministratore)
  enablements list <codice-fiscale>  le richieste di abilitazione della persona
  enablements revoke <numero>      revoca l'abilitazione (es. IST-2026-000042)

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

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

type Parsed = { help: true } | { usage: true } | { group: 'admins' | 'enablements'; command: 'list' | 'grant' | 'revoke'; username?: string; json: boolean };

export function parse(args: string[]): Parsed {
  if (args.includes('--help')) return { help: true };
  const words = args.filter((a) => !a.startsWith('--'));
  const unknown = args.filter((a) => a.startsWith('--') && a !== '--json');
  const [group, command, username, ...rest] = words;
  const admins = group === 'admins' && ((command === 'list' && !username) || ((command === 'grant' || command === 'revoke') && username && !rest.length));
  const enablements = group === 'enablements' && (command === 'list' || command === 'revoke') && username && !rest.length;
  if ((!admins && !enablements) || unknown.length) return { usage: true };
  return { group: group as 'admins' | 'enablements', command: command as 'list' | 'grant' | 'revoke', username, json: args.includes('--json') };
}

const ENABLEMENT_MESSAGES = {
  revoked: 'Abilitazione {n} revocata.',
  already: 'L\'abilitazione {n} era già revocata.',
  not_found: 'Nessuna richiesta di abilitazione con numero {n}.',
} as const;

async function enablementCommand(parsed: { command: string; username?: string; json: boolean }, enablements: EnablementAdministration): Promise<CommandResult> {
  const subject = parsed.username!;
  if (parsed.command === 'list') {
    const list = await enablements.list(subject);
    const rows = list.map((e) => ({ number: e.number, service: e.serviceId, state: e.state, createdAt: e.createdAt.toISOString() }));
    const text = parsed.json ? JSON.stringify(rows, null, 2)
      : rows.length ? rows.map((r) => `${r.number.padEnd(18)} ${r.service.padEnd(20)} ${r.state.padEnd(24)} ${r.createdAt.slice(0, 10)}`).join('\n') : 'Nessuna richiesta di abilitazione.';
    return { code: 0, stdout: text, stderr: '' };
  }
  const outcome = await enablements.revoke(subject, { kind: 'system' });
  const text = parsed.json ? JSON.stringify({ outcome, number: subject }) : ENABLEMENT_MESSAGES[outcome].replace('{n}', subject);
  return outcome === 'not_found' ? { code: 1, stdout: parsed.json ? text : '', stderr: parsed.json ? '' : text } : { code: 0, stdout: text, stderr: '' };
}

/** One command on the role; what it prints and its exit code. */
export async function adminCommand(args: string[], deps: { administrators: Administrators; enablements: EnablementAdministration }): Promise<CommandResult> {
  const { administrators } = deps;
  const parsed = parse(args);
  if ('help' in parsed) return { code: 0, stdout: USAGE, stderr: '' };
  if ('usage' in parsed) return { code: 2, stdout: '', stderr: USAGE };
  if (parsed.group === 'enablements') return enablementCommand(parsed, deps.enablements);
  if (parsed.command === 'list') {
    const list = await administrators.list();
    const text = parsed.json
      ? JSON.stringify(list, null, 2)
      : list.length ? list.map((a) => `${a.username.padEnd(24)} ${a.name}  (dal ${a.grantedAt.toISOString().slice(0, 10)})`).join('\n') : 'Nessun amministratore.';
    return { code: 0, stdout: text, stderr: '' };
  }
  const username = parsed.username!;
  const outcome = parsed.command === 'grant' ? await administrators.grant(username, { kind: 'system' }) : await administrators.revoke(username, { kind: 'system' });
  const refused = REFUSED.has(outcome);
  const text = parsed.json ? JSON.stringify({ outcome, username }) : MESSAGES[outcome].replace('{u}', username);
  return { code: refused ? 1 : 0, stdout: refused && !parsed.json ? '' : text, stderr: refused && !parsed.json ? text : '' };
}

