import { readFileSync } from 'node:fs';
import type { Refusal, Registered } from '../../services/administration.js';
import { MAX_SECRET_GRACE_SECONDS } from '../../services/administration.js';
import { serviceView } from '../../services/views.js';
import type { ServiceRecord } from '../../services/repository.js';
import { formErrors } from '../service-form.js';
import { done, EXIT, refused, type CommandGroup, type CommandResult, type OptionValues } from './group.js';

const COMMANDS = ['list', 'show', 'add', 'update', 'rotate-secret', 'disable', 'enable', 'remove'] as const;

const list = (value: OptionValues[string]) => (typeof value === 'string' ? value.split(',').map((v) => v.trim()).filter(Boolean) : undefined);
const yesNo = (value: OptionValues[string]) => (value === 'yes' || value === 'si' ? true : value === 'no' ? false : value === undefined ? undefined : value);
const seconds = (value: OptionValues[string]) => (typeof value === 'string' ? (/^\d+$/.test(value) ? Number(value) : value) : undefined);

/** The options given, as settings (what is not given is left as it was). */
function settingsFromOptions(values: OptionValues): Record<string, unknown> {
  const fromFile = typeof values.file === 'string' ? (JSON.parse(readFileSync(values.file === '-' ? 0 : values.file, 'utf8')) as Record<string, unknown>) : {};
  const lifetimes = Object.fromEntries(
    Object.entries({ accessToken: seconds(values['access-token-ttl']), idToken: seconds(values['id-token-ttl']), refreshTokenIdle: seconds(values['refresh-idle']), refreshTokenAbsolute: seconds(values['refresh-absolute']) })
      .filter(([, v]) => v !== undefined),
  );
  const given: Record<string, unknown> = {
    name: values.name,
    description: values.description,
    logo: values.logo,
    redirectUris: values['redirect-uri'],
    postLogoutRedirectUris: values['post-logout-uri'],
    backchannelLogoutUri: values['backchannel-logout-uri'],
    firstParty: yesNo(values['first-party']),
    enablementRequired: yesNo(values.enablement),
    acceptedAccountTypes: list(values['account-types']),
    requiredAcr: values.acr === 'none' ? null : values.acr,
    scopes: list(values.scopes),
    grantTypes: list(values['grant-types']),
    tokenEndpointAuthMethod: values['auth-method'],
  };
  const flags = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined));
  return { ...fromFile, ...flags, ...(Object.keys(lifetimes).length ? { tokenLifetimes: { ...((fromFile.tokenLifetimes as object) ?? {}), ...lifetimes } } : {}) };
}

const NEW_SERVICE = { firstParty: true, acceptedAccountTypes: ['standard', 'mi'], scopes: ['openid'], grantTypes: ['authorization_code'] };

function refusal(outcome: Refusal, id: string, json: boolean): CommandResult {
  if (outcome.reason === 'not_found') return refused(`Nessun servizio con identificativo ${id}.`, json, { error: 'not_found', id });
  if (outcome.reason === 'public_client') return refused(`Il servizio ${id} non ha un segreto (app pubblica): non c'è nulla da ruotare.`, json, { error: 'public_client', id });
  return refused(['Servizio non valido, nulla è cambiato:', ...formErrors(outcome.problems).summary.map((m) => `  - ${m}`)].join('\n'), json, { error: 'invalid', problems: outcome.problems });
}

function withSecret(outcome: Registered, json: boolean, verb: string): CommandResult {
  const view = serviceView(outcome.service);
  if (json) return done(JSON.stringify({ service: view, clientSecret: outcome.secret }, null, 2));
  const lines = [`Servizio ${view.id} ${verb}.`];
  if (outcome.secret) lines.push('', `client_secret: ${outcome.secret}`, '', 'Il segreto è mostrato ora e mai più: consegnalo al gestore del servizio per un canale sicuro.');
  if (view.previousSecretValidUntil) lines.push(`Il segreto precedente resta valido fino al ${view.previousSecretValidUntil}.`);
  return done(lines.join('\n'));
}

const describe = (service: ServiceRecord) => {
  const v = serviceView(service);
  const s = v.settings;
  return [
    `${v.id} — ${v.name} (${v.enabled ? 'attivo' : 'disabilitato'}, origine ${v.origin})`,
    `  redirect_uri:        ${s.redirectUris.join(' ') || '—'}`,
    `  post_logout:         ${s.postLogoutRedirectUris.join(' ') || '—'}`,
    `  back-channel logout: ${s.backchannelLogoutUri ?? '—'}`,
    `  del Ministero:       ${s.firstParty ? 'sì' : 'no (partner)'}; abilitazione: ${s.enablementRequired ? 'sì' : 'no'}`,
    `  utenze ammesse:      ${s.acceptedAccountTypes.join(', ')}; acr richiesto: ${s.requiredAcr ?? '—'}`,
    `  scope:               ${s.scopes.join(' ')}`,
    `  grant type:          ${s.grantTypes.join(' ')}; autenticazione: ${s.tokenEndpointAuthMethod}`,
    `  segreto:             ${v.confidential ? 'presente' : 'nessuno'}${v.previousSecretValidUntil ? `; il precedente valido fino al ${v.previousSecretValidUntil}` : ''}`,
    `  durate (s):          access ${v.tokenLifetimes.accessToken}, id ${v.tokenLifetimes.idToken}, refresh ${v.tokenLifetimes.refreshTokenIdle} (max ${v.tokenLifetimes.refreshTokenAbsolute})`,
  ].join('\n');
};

export const servicesGroup: CommandGroup = {
  name: 'services',
  summary: `  services list | show <id>        i servizi registrati
  services add <id> [opzioni]      registra un servizio (il segreto è mostrato una volta)
  services update <id> [opzioni]   cambia i dati indicati
  services rotate-secret <id> [--grace secondi]   nuovo segreto; il precedente valido per il periodo
  services disable|enable <id>     rifiutato ovunque / di nuovo attivo
  services remove <id> --yes       elimina il servizio dal catalogo`,
  help: `uso: npm run admin -- services <comando> [opzioni] [--json]

  list                      i servizi: identificativo, nome, stato, origine
  show <id>                 i dati di un servizio (mai il segreto)
  add <id> [opzioni]        registra un servizio; stampa il segreto una sola volta
  update <id> [opzioni]     cambia solo i dati indicati; il resto resta com'è
  rotate-secret <id> [--grace <secondi>]
                            un nuovo segreto; il precedente resta valido --grace secondi
                            (predefinito 86400, da 0 a ${MAX_SECRET_GRACE_SECONDS})
  disable <id> | enable <id>  il servizio è rifiutato a /auth e /token, o di nuovo attivo
  remove <id> --yes         elimina il servizio (senza --yes non fa nulla)

Opzioni dei dati (add, update):
  --name <testo>                  --description <testo>     --logo <https://… | /assets/…>
  --redirect-uri <URI>            (ripetibile)              --post-logout-uri <URI> (ripetibile)
  --backchannel-logout-uri <URI>  --first-party yes|no      --enablement yes|no
  --account-types standard,mi     --acr <valore>|none
  --scopes openid,profile,…       --grant-types authorization_code,refresh_token,client_credentials
  --auth-method client_secret_basic|client_secret_post|none
  --access-token-ttl <s>  --id-token-ttl <s>  --refresh-idle <s>  --refresh-absolute <s>
  --file <servizio.json | ->      i dati in JSON, come nell'API (le opzioni li sovrascrivono)

Gli indirizzi: completi, https (http solo per localhost in sviluppo), senza # né *.
Esito: 0 fatto, 1 rifiutato (servizio sconosciuto, dati non validi, identificativo già usato), 2 comando non valido.`,
  options: {
    name: { type: 'string' },
    description: { type: 'string' },
    logo: { type: 'string' },
    'redirect-uri': { type: 'string', multiple: true },
    'post-logout-uri': { type: 'string', multiple: true },
    'backchannel-logout-uri': { type: 'string' },
    'first-party': { type: 'string' },
    enablement: { type: 'string' },
    'account-types': { type: 'string' },
    acr: { type: 'string' },
    scopes: { type: 'string' },
    'grant-types': { type: 'string' },
    'auth-method': { type: 'string' },
    'access-token-ttl': { type: 'string' },
    'id-token-ttl': { type: 'string' },
    'refresh-idle': { type: 'string' },
    'refresh-absolute': { type: 'string' },
    file: { type: 'string' },
    grace: { type: 'string' },
    yes: { type: 'boolean' },
  },
  accepts: ([command, id, ...rest]) =>
    (COMMANDS as readonly string[]).includes(command ?? '') && rest.length === 0 && (command === 'list' ? id === undefined : id !== undefined),
  async run([command, id], values, { services }) {
    const json = values.json === true;
    const actor = { kind: 'system' as const, via: 'cli' as const };
    if (command === 'list') {
      const all = await services.repository.list();
      return done(json
        ? JSON.stringify(all.map(serviceView), null, 2)
        : all.length ? all.map((s) => `${s.id.padEnd(28)} ${s.name.padEnd(32)} ${(s.disabledAt ? 'disabilitato' : 'attivo').padEnd(13)} ${s.origin}`).join('\n') : 'Nessun servizio registrato.');
    }
    const serviceId = id!;
    if (command === 'show') {
      const service = await services.repository.find(serviceId);
      if (!service) return refusal({ ok: false, reason: 'not_found' }, serviceId, json);
      return done(json ? JSON.stringify(serviceView(service), null, 2) : describe(service));
    }
    if (command === 'add' || command === 'update') {
      let given: Record<string, unknown>;
      try {
        given = settingsFromOptions(values);
      } catch (error) {
        return refused(`--file: non si legge come JSON (${(error as Error).message}). Nulla è cambiato.`, json, { error: 'invalid_file' });
      }
      if (command === 'add') {
        const outcome = await services.register({ id: serviceId, settings: { ...NEW_SERVICE, ...given } }, actor, 'cli');
        return outcome.ok ? withSecret(outcome, json, 'registrato') : refusal(outcome, serviceId, json);
      }
      const current = await services.repository.find(serviceId);
      if (!current) return refusal({ ok: false, reason: 'not_found' }, serviceId, json);
      const outcome = await services.update(serviceId, { ...current.settings, ...given }, actor);
      return outcome.ok ? withSecret(outcome, json, 'aggiornato') : refusal(outcome, serviceId, json);
    }
    if (command === 'rotate-secret') {
      const grace = values.grace === undefined ? 86400 : /^\d+$/.test(String(values.grace)) ? Number(values.grace) : Number.NaN;
      const outcome = await services.rotateSecret(serviceId, grace, actor);
      return outcome.ok ? withSecret(outcome, json, 'con un nuovo segreto') : refusal(outcome, serviceId, json);
    }
    if (command === 'disable' || command === 'enable') {
      const outcome = await services.setEnabled(serviceId, command === 'enable', actor);
      if (!outcome.ok) return refusal(outcome, serviceId, json);
      const text = `Servizio ${serviceId} ${command === 'enable' ? 'attivo' : 'disabilitato'}${outcome.changed ? '' : ' (lo era già)'}.`;
      return done(json ? JSON.stringify({ id: serviceId, enabled: command === 'enable', changed: outcome.changed }) : text);
    }
    // remove
    if (values.yes !== true) return { code: EXIT.usage, stdout: '', stderr: `Per eliminare ${serviceId} ripeti il comando con --yes: i suoi token non saranno più accettati.` };
    const outcome = await services.remove(serviceId, actor);
    if (!outcome.ok) return refusal(outcome, serviceId, json);
    return done(json ? JSON.stringify({ id: serviceId, removed: true }) : `Servizio ${serviceId} eliminato.`);
  },
};
