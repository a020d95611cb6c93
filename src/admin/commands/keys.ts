import { KEY_OVERLAP } from '../../provider/keys.js';
import { done, refused, type CommandGroup } from './group.js';

const RETIRE_MESSAGES = {
  retired: 'Chiave {k} ritirata: dal prossimo avvio delle istanze non è più pubblicata.',
  already: 'La chiave {k} era già ritirata.',
  not_found: 'Nessuna chiave di firma o dei cookie con kid {k}.',
  active: 'La chiave {k} è attiva: prima ruota le chiavi (keys rotate), poi ritira la precedente.',
} as const;

const STATES = { active: 'attiva', retiring: 'in uscita', retired: 'ritirata' } as const;

export const keysGroup: CommandGroup = {
  name: 'keys',
  summary: `  keys list                        le chiavi di firma e dei cookie, con lo stato
  keys rotate [--overlap secondi]  nuove chiavi attive; le precedenti verificano ancora per il periodo
  keys retire <kid>                chiude subito il periodo di una chiave in uscita`,
  help: `uso: npm run admin -- keys <comando> [--json]

  list                        kid, uso, algoritmo, stato (attiva, in uscita, ritirata), date
  rotate [--overlap <s>]      una nuova chiave di firma per algoritmo (RS256, ES256) e una dei cookie
                              diventano attive; le precedenti restano pubblicate in /jwks, solo per
                              verificare, per --overlap secondi (predefinito ${KEY_OVERLAP.default}, da ${KEY_OVERLAP.min} a ${KEY_OVERLAP.max})
  retire <kid>                ritira subito una chiave in uscita (mai quella attiva)

Ogni istanza carica le chiavi all'avvio: dopo rotate riavvia le istanze una alla volta entro il
periodo di sovrapposizione. I token firmati prima restano verificabili per tutto il periodo; con
meno di 10 ore (la durata di una sessione) chi è entrato prima dovrà rientrare quando la vecchia
chiave dei cookie si ritira.
Esito: 0 fatto (o già così), 1 rifiutato, 2 comando non valido.`,
  options: { overlap: { type: 'string' } },
  accepts: ([command, kid, ...rest]) => rest.length === 0 && ((command === 'list' || command === 'rotate') ? kid === undefined : command === 'retire' && !!kid),
  async run([command, kid], values, { keys }) {
    const json = values.json === true;
    const actor = { kind: 'system' as const, via: 'cli' as const };
    if (command === 'list') {
      const rows = await keys.list();
      return done(json
        ? JSON.stringify(rows, null, 2)
        : rows.map((k) => `${k.kid.padEnd(46)} ${k.use.padEnd(8)} ${(k.alg ?? '').padEnd(6)} ${STATES[k.state].padEnd(10)} ${k.createdAt.toISOString().slice(0, 10)}${k.retiredAt ? `  → ${k.retiredAt.toISOString()}` : ''}`).join('\n'));
    }
    if (command === 'rotate') {
      const overlap = values.overlap === undefined ? KEY_OVERLAP.default : /^\d+$/.test(String(values.overlap)) ? Number(values.overlap) : Number.NaN;
      const outcome = await keys.rotate(overlap, actor);
      if (!outcome.ok) return refused(`--overlap: da ${KEY_OVERLAP.min} a ${KEY_OVERLAP.max} secondi. Nulla è cambiato.`, json, { error: 'invalid_overlap' });
      return done(json
        ? JSON.stringify(outcome, null, 2)
        : [`Nuove chiavi di firma attive: ${outcome.created.join(', ')} (e una nuova chiave dei cookie).`,
          `Le precedenti (${outcome.retiring.length}) restano valide per verificare fino al ${outcome.until.toISOString()}.`,
          'Riavvia ora le istanze, una alla volta: ognuna usa le nuove chiavi dal suo avvio.'].join('\n'));
    }
    const outcome = await keys.retire(kid!, actor);
    const text = RETIRE_MESSAGES[outcome].replace('{k}', kid!);
    if (outcome === 'not_found' || outcome === 'active') return refused(text, json, { outcome, kid });
    return done(json ? JSON.stringify({ outcome, kid }) : text);
  },
};
