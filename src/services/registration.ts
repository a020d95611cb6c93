import type { ServiceRules, ServiceSettings, FieldProblem } from './catalogue.js';
import { validateSettings } from './catalogue.js';

/**
 * Dynamic registration (RFC 7591/7592) in the catalogue's terms. A partner sets what its own
 * service is (name, logo, URIs, grant types, scopes, how it authenticates); what it may do
 * here — consent, enablement, account types, acr, lifetimes — stays the administrator's: a new
 * registration gets the defaults below, an update keeps what the administration set.
 */
const PARTNER_FIELDS = {
  client_name: 'name',
  logo_uri: 'logo',
  redirect_uris: 'redirectUris',
  post_logout_redirect_uris: 'postLogoutRedirectUris',
  backchannel_logout_uri: 'backchannelLogoutUri',
  grant_types: 'grantTypes',
  scope: 'scopes',
  token_endpoint_auth_method: 'tokenEndpointAuthMethod',
} as const;

const METADATA_NAME: Record<string, string> = Object.fromEntries(Object.entries(PARTNER_FIELDS).map(([metadata, field]) => [field, metadata]));

/** A registered service is a partner's: consent asked, no enablement, every account type, partner lifetimes. */
export const REGISTERED_SERVICE_DEFAULTS = {
  firstParty: false,
  enablementRequired: false,
  acceptedAccountTypes: ['standard', 'mi'],
  requiredAcr: null,
} as const;

/** Grant types a partner may register: client_credentials tokens are for the ministry's own machines. */
const REGISTRABLE_GRANT_TYPES = new Set(['authorization_code', 'refresh_token']);

/** The settings a registration request (or update) asks for, on top of `base`: every bad field named by its RFC 7591 name. */
export function settingsFromRegistration(
  metadata: Record<string, unknown>,
  base: ServiceSettings | null,
  rules: ServiceRules,
  issuer: string,
): { ok: true; settings: ServiceSettings } | { ok: false; problems: FieldProblem[] } {
  const grantTypes = metadata.grant_types ?? ['authorization_code'];
  if (Array.isArray(grantTypes) && grantTypes.some((g) => !REGISTRABLE_GRANT_TYPES.has(g as string))) {
    return { ok: false, problems: [{ field: 'grant_types', message: 'only authorization_code and refresh_token may be registered' }] };
  }
  const scope = metadata.scope ?? 'openid';
  const requested = {
    name: metadata.client_name,
    // a logo uploaded in the console comes back as the provider's URL
    logo: typeof metadata.logo_uri === 'string' && metadata.logo_uri.startsWith(`${issuer}/`) ? metadata.logo_uri.slice(issuer.length) : metadata.logo_uri,
    redirectUris: metadata.redirect_uris,
    postLogoutRedirectUris: metadata.post_logout_redirect_uris,
    backchannelLogoutUri: metadata.backchannel_logout_uri,
    grantTypes,
    scopes: typeof scope === 'string' ? scope.split(' ').filter(Boolean) : scope,
    tokenEndpointAuthMethod: metadata.token_endpoint_auth_method ?? 'client_secret_basic',
  };
  const administrators = base
    ? { firstParty: base.firstParty, enablementRequired: base.enablementRequired, acceptedAccountTypes: base.acceptedAccountTypes, requiredAcr: base.requiredAcr, description: base.description, tokenLifetimes: base.tokenLifetimes }
    : { ...REGISTERED_SERVICE_DEFAULTS, acceptedAccountTypes: [...REGISTERED_SERVICE_DEFAULTS.acceptedAccountTypes] };
  const input = Object.fromEntries(Object.entries({ ...administrators, ...requested }).filter(([, v]) => v !== undefined && v !== null));
  const checked = validateSettings({ ...input, requiredAcr: administrators.requiredAcr }, rules);
  if (checked.ok) return checked;
  return {
    ok: false,
    problems: checked.problems.map((p) => {
      const [head, ...rest] = p.field.split('.');
      return { field: [METADATA_NAME[head!] ?? head, ...rest].join('.'), message: p.message };
    }),
  };
}
