import { readFileSync } from 'node:fs';
import type { ClientMetadata } from 'oidc-provider';
import { z } from 'zod';
import type { AccountType } from '../accounts/account.js';
import { SUPPORTED_ACR_VALUES } from '../accounts/acr.js';
import { CONSOLE_CLIENT_IDS } from './consoles.js';
import { lifetimesOf, tokenLifetimesSchema, type TokenLifetimes } from './lifetimes.js';

/** A registered client service, as the sign-in (gates, pages) sees it. */
export interface Service {
  id: string;
  name: string;
  description?: string;
  logo?: string;
  firstParty: boolean;
  enablementRequired: boolean;
  acceptedAccountTypes: AccountType[];
  requiredAcr: string | null;
  /** Origins its redirect and post-logout URIs live at: where a form on our pages may lead. */
  formActionOrigins: string[];
}

const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '[::1]']);

export type ServiceRules = { production: boolean };

/**
 * A URL the provider sends a browser or a logout token to: https, no fragment, no
 * credentials, no wildcard; plain http only for loopback while developing.
 */
export function endpointUrlProblem(value: string, { production }: ServiceRules): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute URL';
  }
  if (value.includes('*')) return 'must not contain wildcards (*): register every URL in full';
  if (url.username || url.password) return 'must not contain a user name or password';
  if (url.hash || value.includes('#')) return 'must not contain a fragment (#)';
  if (url.protocol === 'https:') return null;
  if (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)) {
    return production ? 'must use https in production (plain http is allowed only for loopback in development)' : null;
  }
  return 'must use https (plain http only for http://localhost, 127.0.0.1 or [::1] in development)';
}

const endpointUrl = (rules: ServiceRules) =>
  z.string().superRefine((value, ctx) => {
    const problem = endpointUrlProblem(value, rules);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/** Secrets committed with the demo (clients.json) follow this shape; none may serve in production. */
export function isDemoSecret(secret: string): boolean {
  return /change-me|^demo-/i.test(secret);
}

/** The admin JSON API's scope: for a machine client of the ministry's (client_credentials alone), never a person's token. */
export const ADMIN_API_SCOPE = 'admin';

export const KNOWN_SCOPES = ['openid', 'profile', 'email', 'phone', 'address', 'fiscal_number', 'offline_access', ADMIN_API_SCOPE] as const;
export const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials'] as const;
export const CLIENT_AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'none'] as const;
export const ACCOUNT_TYPES = ['standard', 'mi'] as const;

export const SERVICE_ID = /^[a-z0-9][a-z0-9-]{1,62}$/;
const serviceId = z
  .string()
  .regex(SERVICE_ID, 'must be 2–63 characters: lower-case letters, digits and dashes')
  .refine((id) => !CONSOLE_CLIENT_IDS.has(id), "reserved for the provider's own console");

/** A logo: a file of the provider's (/assets/…), one uploaded in the console, or an https URL. */
export const LOGO = /^\/assets\/[\w./-]+$|^\/servizi\/[a-z0-9-]+\/logo(\?v=\d+)?$|^https:\/\/[^\s*#]+$/;

/** The fields of a service both clients.json and the administration set (everything but its id and secret). */
const settingsShape = (rules: ServiceRules) => ({
  name: z.string().trim().min(1, 'is required').max(80, 'must be at most 80 characters'),
  description: z.string().trim().max(300, 'must be at most 300 characters').optional(),
  logo: z.string().regex(LOGO, 'must be a path under /assets/ or an https URL').optional(),
  redirectUris: z.array(endpointUrl(rules)).max(20).default([]),
  postLogoutRedirectUris: z.array(endpointUrl(rules)).max(20).default([]),
  backchannelLogoutUri: endpointUrl(rules).optional(),
  firstParty: z.boolean(),
  enablementRequired: z.boolean().default(false),
  acceptedAccountTypes: z.array(z.enum(ACCOUNT_TYPES)).min(1, 'at least one account type'),
  requiredAcr: z
    .string()
    .nullable()
    .default(null)
    .refine((v) => v === null || SUPPORTED_ACR_VALUES.includes(v), `must be null or one of ${SUPPORTED_ACR_VALUES.join(', ')}`),
  scopes: z.array(z.enum(KNOWN_SCOPES)).min(1).refine((s) => s.includes('openid'), 'must include openid'),
  grantTypes: z.array(z.enum(GRANT_TYPES)).min(1, 'at least one grant type'),
  tokenLifetimes: tokenLifetimesSchema.optional(),
});

type GrantTypeRules = { redirectUris: string[]; grantTypes: readonly string[]; scopes: readonly string[]; confidential: boolean; secretField: string };

function checkGrantTypes(s: GrantTypeRules, ctx: z.RefinementCtx) {
  const usesCode = s.grantTypes.includes('authorization_code');
  if (usesCode && s.redirectUris.length === 0) {
    ctx.addIssue({ code: 'custom', path: ['redirectUris'], message: 'at least one is required with authorization_code' });
  }
  if (!s.confidential && s.grantTypes.includes('client_credentials')) {
    ctx.addIssue({ code: 'custom', path: [s.secretField], message: 'is required with client_credentials' });
  }
  if (s.grantTypes.includes('refresh_token') && !usesCode) {
    ctx.addIssue({ code: 'custom', path: ['grantTypes'], message: 'refresh_token needs authorization_code' });
  }
  if (s.scopes.includes(ADMIN_API_SCOPE) && (s.grantTypes.length !== 1 || s.grantTypes[0] !== 'client_credentials')) {
    ctx.addIssue({ code: 'custom', path: ['scopes'], message: `${ADMIN_API_SCOPE} (the admin API) only for a client whose one grant type is client_credentials` });
  }
}

/** What the catalogue stores of a service beside its id and secret. */
export const serviceSettingsSchema = (rules: ServiceRules) =>
  z
    .object({ ...settingsShape(rules), tokenEndpointAuthMethod: z.enum(CLIENT_AUTH_METHODS).default('client_secret_basic') })
    .strict()
    .superRefine((s, ctx) =>
      checkGrantTypes({ ...s, confidential: s.tokenEndpointAuthMethod !== 'none', secretField: 'tokenEndpointAuthMethod' }, ctx));

export type ServiceSettings = z.infer<ReturnType<typeof serviceSettingsSchema>>;

/** A clients.json entry: the settings, its id, its secret (absent: a public client), a demo port. */
const serviceDefinitionSchema = (rules: ServiceRules) =>
  z
    .object({
      id: serviceId,
      clientSecret: z
        .string()
        .min(32, 'must be at least 32 characters')
        .refine((v) => !rules.production || !isDemoSecret(v), 'is a demo secret committed with the project: generate a new one (openssl rand -base64 32)')
        .optional(),
      ...settingsShape(rules),
      tokenEndpointAuthMethod: z.enum(['client_secret_basic', 'client_secret_post']).default('client_secret_basic'),
      demoPort: z.number().int().min(1).max(65535).optional(),
    })
    .strict()
    .superRefine((s, ctx) => checkGrantTypes({ ...s, confidential: !!s.clientSecret, secretField: 'clientSecret' }, ctx));

export type ServiceDefinition = z.infer<ReturnType<typeof serviceDefinitionSchema>>;

/** A problem with one field of a service: the path (e.g. "redirectUris.0") and what is wrong. */
export interface FieldProblem {
  field: string;
  message: string;
}

export const problemsOf = (error: z.ZodError): FieldProblem[] =>
  error.issues.map((issue) => ({ field: issue.path.join('.') || '(entry)', message: issue.message }));

/** Settings checked against the schema: every bad field named. */
export function validateSettings(input: unknown, rules: ServiceRules): { ok: true; settings: ServiceSettings } | { ok: false; problems: FieldProblem[] } {
  const parsed = serviceSettingsSchema(rules).safeParse(input);
  return parsed.success ? { ok: true, settings: parsed.data } : { ok: false, problems: problemsOf(parsed.error) };
}

/** A service id checked: the form of an id and the consoles' reserved ones. */
export function serviceIdProblem(id: string): string | null {
  const parsed = serviceId.safeParse(id);
  return parsed.success ? null : parsed.error.issues[0]!.message;
}

/** A clients.json entry as the catalogue stores it: its settings and its secret apart. */
export function settingsOfDefinition(definition: ServiceDefinition): { settings: ServiceSettings; secret: string | null } {
  const { id: _id, clientSecret, demoPort: _port, tokenEndpointAuthMethod, ...rest } = definition;
  return { settings: { ...rest, tokenEndpointAuthMethod: clientSecret ? tokenEndpointAuthMethod : 'none' }, secret: clientSecret ?? null };
}

const clientsFileSchema = z.object({ services: z.array(z.unknown()).min(1) }).strict();

export class ClientsFileError extends Error {}

/** Reads and validates clients.json; an error names the file, the service and the field. */
export function loadServiceDefinitions(path: string, rules: ServiceRules): ServiceDefinition[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ClientsFileError(`${path}: cannot be read as JSON (${(error as Error).message})`);
  }
  const file = clientsFileSchema.safeParse(raw);
  if (!file.success) {
    throw new ClientsFileError(`${path}: must be an object { "services": [ … ] } with at least one service`);
  }
  const seen = new Set<string>();
  const schema = serviceDefinitionSchema(rules);
  return file.data.services.map((entry, index) => {
    const label = typeof (entry as { id?: unknown })?.id === 'string' ? `service "${(entry as { id: string }).id}"` : `service #${index + 1}`;
    const parsed = schema.safeParse(entry);
    if (!parsed.success) {
      const [problem] = problemsOf(parsed.error);
      throw new ClientsFileError(`${path}: ${label}, field "${problem!.field}": ${problem!.message}`);
    }
    if (seen.has(parsed.data.id)) throw new ClientsFileError(`${path}: ${label}, field "id": used twice`);
    seen.add(parsed.data.id);
    return parsed.data;
  });
}

/** Extra client metadata our gates and ttl functions read (oidc-provider keeps these verbatim on the Client). */
export const SERVICE_METADATA_PROPERTIES = [
  'first_party',
  'enablement_required',
  'accepted_account_types',
  'required_acr',
  'service_description',
  'token_lifetimes',
  'previous_secret_digest',
  'previous_secret_valid_until',
] as const;

/** A service's client metadata, its credentials aside (the caller adds them). */
export function toClientMetadata(id: string, settings: ServiceSettings, issuer: string): ClientMetadata {
  const usesCode = settings.grantTypes.includes('authorization_code');
  return {
    client_id: id,
    token_endpoint_auth_method: settings.tokenEndpointAuthMethod,
    client_name: settings.name,
    ...(settings.logo ? { logo_uri: settings.logo.startsWith('/') ? issuer + settings.logo : settings.logo } : {}),
    redirect_uris: settings.redirectUris,
    post_logout_redirect_uris: settings.postLogoutRedirectUris,
    ...(settings.backchannelLogoutUri
      ? { backchannel_logout_uri: settings.backchannelLogoutUri, backchannel_logout_session_required: true }
      : {}),
    grant_types: settings.grantTypes,
    response_types: usesCode ? ['code'] : [],
    scope: settings.scopes.join(' '),
    first_party: settings.firstParty,
    enablement_required: settings.enablementRequired,
    accepted_account_types: settings.acceptedAccountTypes,
    required_acr: settings.requiredAcr,
    service_description: settings.description ?? null,
    token_lifetimes: lifetimesOf(settings),
  };
}

/**
 * An oidc-provider Client as we read it: the library keeps each standard metadata field on
 * the instance as a camelCase property and each extra one (SERVICE_METADATA_PROPERTIES) under
 * its own name; its metadata() rebuilds the whole object key by key, too costly for the paths
 * every request takes.
 */
export interface ClientProperties {
  clientId: string;
  clientName?: string;
  logoUri?: string;
  clientSecret?: string;
  redirectUris?: string[];
  postLogoutRedirectUris?: string[];
  first_party?: boolean;
  enablement_required?: boolean;
  accepted_account_types?: AccountType[];
  required_acr?: string | null;
  service_description?: string | null;
  token_lifetimes?: TokenLifetimes;
  previous_secret_digest?: string;
  previous_secret_valid_until?: number;
}

/** The Service behind an oidc-provider Client. */
export function serviceFromClient(client: object): Service {
  const c = client as ClientProperties;
  return {
    id: c.clientId,
    name: c.clientName ?? c.clientId,
    description: c.service_description ?? undefined,
    logo: c.logoUri,
    firstParty: c.first_party === true,
    enablementRequired: c.enablement_required === true,
    acceptedAccountTypes: c.accepted_account_types ?? ['standard', 'mi'],
    requiredAcr: c.required_acr ?? null,
    formActionOrigins: formActionOrigins(c),
  };
}

/** The distinct origins of a client's redirect and post-logout redirect URIs. */
export function formActionOrigins(client: Pick<ClientProperties, 'redirectUris' | 'postLogoutRedirectUris'>): string[] {
  const uris = [...(client.redirectUris ?? []), ...(client.postLogoutRedirectUris ?? [])];
  return [...new Set(uris.map((uri) => URL.parse(uri)?.origin).filter((o): o is string => !!o && o !== 'null'))];
}
