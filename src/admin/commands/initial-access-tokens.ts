import { INITIAL_ACCESS_TOKEN_LIMITS } from '../../services/initial-access-tokens.js';
import { tokenView } from '../../services/views.js';
import { done, refused, type CommandGroup } from './group.js';

const { maxUses, lifetime } = INITIAL_ACCESS_TOKEN_LIMITS;
const DAY = 24 * 60 * 60;

const STATES = { active: 'utilizzabile', spent: 'esaurito', expired: 'scaduto', revoked: 'revocato' } as const;

const REVOKE_MESSAGES = {
  revoked: 'Token {id} revocato: non registra più servizi (quelli già registrati restano).',
  already: 'Il token {id} era già revocato.',
  not_found: 'Nessun token di accesso iniziale con identificativo {id}.',
} as const;

const whole = (value: unknown) => (typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value);

export const initialAccessTokensGroup: CommandGroup = {
  name: 'iat',
  summary: `  iat issue --label <testo> [--uses n] [--days n]   un token di accesso iniziale per la registrazione dinamica
  iat list | iat revoke <id>                        i token emessi; revoca di uno`,
  help: `uso: npm run admin -- iat <comando> [--json]

  issue --label <testo> [--uses <n>] [--days <n>]
                     un token con cui un partner registra il proprio servizio (RFC 7591) in
                     POST /reg; mostrato una sola volta. --uses quanti servizi può registrare
                     (predefinito ${maxUses.default}, da ${maxUses.min} a ${maxUses.max}); --days la durata (predefinito ${lifetime.default / DAY}, al più ${lifetime.max / DAY}).
  list               identificativo, etichetta, stato, usi, scadenza
  revoke <id>        il token non registra più servizi; quelli registrati restano

I servizi registrati così entrano nel catalogo con origine "registration": richiedono il
consenso, non chiedono l'abilitazione; l'amministratore li modifica come gli altri.
Esito: 0 fatto (o già così), 1 rifiutato, 2 comando non valido.`,
  options: { label: { type: 'string' }, uses: { type: 'string' }, days: { type: 'string' } },
  accepts: ([command, id, ...rest]) =>
    rest.length === 0 && ((command === 'list' || command === 'issue') ? id === undefined : command === 'revoke' && !!id),
  async run([command, id], values, { initialAccessTokens }) {
    const json = values.json === true;
    const actor = { kind: 'system' as const, via: 'cli' as const };
    if (command === 'list') {
      const rows = (await initialAccessTokens.list()).map(tokenView);
      return done(json
        ? JSON.stringify(rows, null, 2)
        : rows.map((r) => `${r.id}  ${STATES[r.state].padEnd(12)} ${`${r.uses}/${r.maxUses}`.padEnd(9)} scade ${r.expiresAt}  ${r.label}`).join('\n') || 'Nessun token emesso.');
    }
    if (command === 'issue') {
      const days = whole(values.days);
      const input = {
        label: values.label ?? '',
        ...(values.uses !== undefined ? { maxUses: whole(values.uses) } : {}),
        ...(days !== undefined ? { expiresIn: typeof days === 'number' ? days * DAY : days } : {}),
      };
      const outcome = await initialAccessTokens.issue(input, actor);
      if (!outcome.ok) {
        const named = outcome.problems.map((p) => `  --${{ label: 'label', maxUses: 'uses', expiresIn: 'days' }[p.field] ?? p.field}: ${p.message}`);
        return refused(['Token non emesso:', ...named, 'Nulla è cambiato.'].join('\n'), json, { error: 'invalid', problems: outcome.problems });
      }
      const view = tokenView(outcome.record);
      return done(json
        ? JSON.stringify({ ...view, token: outcome.token }, null, 2)
        : [`Token ${view.id} per "${view.label}": ${view.maxUses} ${view.maxUses === 1 ? 'registrazione' : 'registrazioni'}, scade il ${view.expiresAt}.`,
          `Token (mostrato solo ora): ${outcome.token}`,
          'Il partner lo presenta come Authorization: Bearer in POST /reg.'].join('\n'));
    }
    const outcome = await initialAccessTokens.revoke(id!, actor);
    const text = REVOKE_MESSAGES[outcome].replace('{id}', id!);
    if (outcome === 'not_found') return refused(text, json, { outcome, id });
    return done(json ? JSON.stringify({ outcome, id }) : text);
  },
};
