import { ADMIN_API_SCOPE } from '../services/catalogue.js';
import { isMessageKey, t } from '../i18n/index.js';
import type { FieldProblem, ServiceSettings } from '../services/catalogue.js';
import { lifetimesOf, profileOf, type TokenLifetimes } from '../services/lifetimes.js';

/** How long a rotated secret may stay valid, as the console offers it (seconds). */
export const GRACE_CHOICES = [0, 3600, 86400, 604800, 2592000] as const;

const MINUTE = 60;
const DAY = 24 * 60 * MINUTE;
/** The console shows access and ID tokens in minutes, refresh tokens in days. */
const LIFETIME_UNITS: Record<keyof TokenLifetimes, number> = { accessToken: MINUTE, idToken: MINUTE, refreshTokenIdle: DAY, refreshTokenAbsolute: DAY };

type Body = Record<string, unknown>;
const list = (value: unknown) => (Array.isArray(value) ? value : value === undefined ? [] : [value]).map(String);
const lines = (value: unknown) => String(value ?? '').split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
const text = (value: unknown) => String(value ?? '').trim() || undefined;

function amount(value: unknown, unit: number): number | undefined {
  const typed = text(value);
  if (typed === undefined) return undefined;
  const n = Number(typed.replace(',', '.'));
  return Number.isFinite(n) ? Math.round(n * unit) : Number.NaN;
}

/** The service form's fields as the catalogue's settings (validated by the catalogue, not here). */
export function settingsFromForm(body: Body): Record<string, unknown> {
  // the body parser reads "tokenLifetimes.accessToken" as a nested object (qs allowDots)
  const typed = (body.tokenLifetimes ?? {}) as Record<string, unknown>;
  const lifetimes = Object.fromEntries(
    (Object.keys(LIFETIME_UNITS) as (keyof TokenLifetimes)[])
      .map((key) => [key, amount(typed[key], LIFETIME_UNITS[key])] as const)
      .filter(([, v]) => v !== undefined),
  );
  return {
    name: String(body.name ?? ''),
    description: text(body.description),
    logo: text(body.logo),
    redirectUris: lines(body.redirectUris),
    postLogoutRedirectUris: lines(body.postLogoutRedirectUris),
    backchannelLogoutUri: text(body.backchannelLogoutUri),
    firstParty: body.firstParty === 'si',
    enablementRequired: body.enablementRequired === 'si',
    acceptedAccountTypes: list(body.acceptedAccountTypes),
    requiredAcr: text(body.requiredAcr) ?? null,
    scopes: ['openid', ...list(body.scopes).filter((s) => s !== 'openid')],
    grantTypes: list(body.grantTypes),
    tokenEndpointAuthMethod: String(body.tokenEndpointAuthMethod ?? 'client_secret_basic'),
    ...(Object.keys(lifetimes).length ? { tokenLifetimes: lifetimes } : {}),
  };
}

export interface ServiceFormValues {
  id: string;
  name: string;
  description: string;
  logo: string;
  redirectUris: string;
  postLogoutRedirectUris: string;
  backchannelLogoutUri: string;
  firstParty: boolean;
  enablementRequired: boolean;
  acceptedAccountTypes: string[];
  requiredAcr: string;
  scopes: string[];
  grantTypes: string[];
  tokenEndpointAuthMethod: string;
  lifetimes: Record<keyof TokenLifetimes, string>;
  /** the lifetimes of the service's profile, shown as placeholders */
  profileLifetimes: Record<keyof TokenLifetimes, string>;
  profile: string;
}

const inUnits = (lifetimes: Partial<TokenLifetimes>) =>
  Object.fromEntries(
    (Object.keys(LIFETIME_UNITS) as (keyof TokenLifetimes)[]).map((key) => [key, lifetimes[key] === undefined ? '' : String(lifetimes[key]! / LIFETIME_UNITS[key])]),
  ) as Record<keyof TokenLifetimes, string>;

/** What the form shows: a service's settings, or what was typed (kept when refused), or a new service's defaults. */
export function formValues(id: string, settings: Partial<ServiceSettings> | Record<string, unknown> = {}): ServiceFormValues {
  const s = settings as Partial<ServiceSettings>;
  const firstParty = s.firstParty ?? true;
  return {
    id,
    name: s.name ?? '',
    description: s.description ?? '',
    logo: s.logo ?? '',
    redirectUris: (s.redirectUris ?? []).join('\n'),
    postLogoutRedirectUris: (s.postLogoutRedirectUris ?? []).join('\n'),
    backchannelLogoutUri: s.backchannelLogoutUri ?? '',
    firstParty,
    enablementRequired: s.enablementRequired ?? false,
    acceptedAccountTypes: s.acceptedAccountTypes ?? ['standard', 'mi'],
    requiredAcr: s.requiredAcr ?? '',
    scopes: s.scopes ?? ['openid', 'profile', 'email'],
    grantTypes: s.grantTypes ?? ['authorization_code'],
    tokenEndpointAuthMethod: s.tokenEndpointAuthMethod ?? 'client_secret_basic',
    lifetimes: inUnits(s.tokenLifetimes ?? {}),
    profileLifetimes: inUnits(lifetimesOf({ firstParty })),
    profile: t(`admin.services.profile.${profileOf({ firstParty })}`),
  };
}

/** The catalogue's problems, field by field, in the console's words. */
export function formErrors(problems: FieldProblem[]): { summary: string[]; fields: Record<string, string> } {
  const fields: Record<string, string> = {};
  for (const problem of problems) {
    const [root, index] = problem.field.split('.');
    const key = `admin.services.invalid.${root}`;
    let message: string;
    if (root === 'id') message = problem.message === 'is already registered' ? t('admin.services.invalid.id_taken') : t('admin.services.invalid.id_format');
    else if (root === 'redirectUris' || root === 'postLogoutRedirectUris') {
      const line = index !== undefined && /^\d+$/.test(index) ? t('admin.services.line', { n: Number(index) + 1 }) : '';
      message = t(root === 'redirectUris' ? 'admin.services.invalid.redirectUris' : 'admin.services.invalid.postLogoutRedirectUris', { line });
    } else if (root === 'scopes' && problem.message.startsWith(ADMIN_API_SCOPE)) message = t('admin.services.invalid.admin_scope');
    else if (isMessageKey(key)) message = t(key);
    else message = t('admin.services.invalid.other', { problem: `${problem.field}: ${problem.message}` });
    fields[root ?? 'form'] ??= message;
  }
  return { summary: [...new Set(Object.values(fields))], fields };
}
