import { done, refused, type CommandGroup } from './group.js';

const MESSAGES = {
  revoked: 'Abilitazione {n} revocata.',
  already: 'L\'abilitazione {n} era già revocata.',
  not_found: 'Nessuna richiesta di abilitazione con numero {n}.',
} as const;

export const enablementsGroup: CommandGroup = {
  name: 'enablements',
  summary: `  enablements list <codice-fiscale>  le richieste di abilitazione della persona
  enablements revoke <numero>      revoca l'abilitazione (es. IST-2026-000042)`,
  help: `uso: npm run admin -- enablements <comando> [--json]

  list <codice-fiscale>   le richieste di abilitazione della persona: numero, servizio, stato, data
  revoke <numero>         revoca l'abilitazione (es. IST-2026-000042); la persona potrà chiederne una nuova

Esito: 0 fatto (o già così), 1 rifiutato, 2 comando non valido.`,
  options: {},
  accepts: ([command, subject, ...rest]) => (command === 'list' || command === 'revoke') && !!subject && rest.length === 0,
  async run([command, subject], values, { enablements }) {
    const json = values.json === true;
    if (command === 'list') {
      const rows = (await enablements.list(subject!)).map((e) => ({ number: e.number, service: e.serviceId, state: e.state, createdAt: e.createdAt.toISOString() }));
      return done(json
        ? JSON.stringify(rows, null, 2)
        : rows.length ? rows.map((r) => `${r.number.padEnd(18)} ${r.service.padEnd(20)} ${r.state.padEnd(24)} ${r.createdAt.slice(0, 10)}`).join('\n') : 'Nessuna richiesta di abilitazione.');
    }
    const outcome = await enablements.revoke(subject!, { kind: 'system' });
    const text = MESSAGES[outcome].replace('{n}', subject!);
    if (outcome === 'not_found') return refused(text, json, { outcome, number: subject });
    return done(json ? JSON.stringify({ outcome, number: subject }) : text);
  },
};
