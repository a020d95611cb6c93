import { readFileSync } from 'node:fs';
import type { ClientMetadata } from 'oidc-provider';
import { z } from 'zod';
import type { AccountType } from '../accounts/account.js';
import { SUPPORTED_ACR_VALUES } from '../accounts/acr.js';
import { CONSOLE_CLIENT_IDS } from './consoles.js';

/** A registered client service, as the rest of the product sees it. */
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

const KNOWN_SCOPES = ['openid', 'profile', 'email', 'phone', 'address', 'fiscal_number', 'offline_access'] as const;

const serviceSchema = (rules: ServiceRules) => z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'must be 2–63 characters: lower-case letters, digits and dashes'),
    name: z.string().min(1).max(80),
    description: z.string().max(300).optional(),
    logo: z.string().regex(/^\/assets\/[\w./-]+$|^https:\/\//, 'must be a path under /assets/ or an https URL').optional(),
    clientSecret: z
      .string()
      .min(32, 'must be at least 32 characters')
      .refine((v) => !rules.production || !isDemoSecret(v), 'is a demo secret committed with the project: generate a new one (openssl rand -base64 32)')
      .optional(),
    tokenEndpointAuthMethod: z.enum(['client_secret_basic', 'client_secret_post']).default('client_secret_basic'),
    redirectUris: z.array(endpointUrl(rules)).default([]),
    postLogoutRedirectUris: z.array(endpointUrl(rules)).default([]),
    backchannelLogoutUri: endpointUrl(rules).optional(),
    firstParty: z.boolean(),
    enablementRequired: z.boolean().default(false),
    acceptedAccountTypes: z.array(z.enum(['standard', 'mi'])).min(1),
    requiredAcr: z
      .string()
      .nullable()
      .default(null)
      .refine((v) => v === null || SUPPORTED_ACR_VALUES.includes(v), `must be null or one of ${SUPPORTED_ACR_VALUES.join(', ')}`),
    scopes: z.array(z.enum(KNOWN_SCOPES)).min(1).refine((s) => s.includes('openid'), 'must include openid'),
    grantTypes: z.array(z.enum(['authorization_code', 'refresh_token', 'client_credentials'])).min(1),
    demoPort: z.number().int().min(1).max(65535).optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    const usesCode = s.grantTypes.includes('authorization_code');
    if (usesCode && s.redirectUris.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['redirectUris'], message: 'at least one is required with authorization_code' });
    }
    if (!s.clientSecret && s.grantTypes.includes('client_credentials')) {
      ctx.addIssue({ code: 'custom', path: ['clientSecret'], message: 'is required with client_credentials' });
    }
    if (s.grantTypes.includes('refresh_token') && !usesCode) {
      ctx.addIssue({ code: 'custom', path: ['grantTypes'], message: 'refresh_token needs authorization_code' });
    }
  });

const clientsFileSchema = z.object({ services: z.array(z.unknown()).min(1) }).strict();

export type ServiceDefinition = z.infer<ReturnType<typeof serviceSchema>>;

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
  const schema = serviceSchema(rules);
  return file.data.services.map((entry, index) => {
    const label = typeof (entry as { id?: unknown })?.id === 'string' ? `service "${(entry as { id: string }).id}"` : `service #${index + 1}`;
    const parsed = schema.safeParse(entry);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = issue.path.join('.') || '(entry)';
      throw new ClientsFileError(`${path}: ${label}, field "${field}": ${issue.message}`);
    }
    if (seen.has(parsed.data.id)) throw new ClientsFileError(`${path}: ${label}, field "id": used twice`);
    if (CONSOLE_CLIENT_IDS.has(parsed.data.id)) throw new ClientsFileError(`${path}: ${label}, field "id": reserved for the provider's own console`);
    seen.add(parsed.data.id);
    return parsed.data;
  });
}

/** Extra client metadata our gates read (oidc-provider keeps these verbatim on the Client). */
export const SERVICE_METADATA_PROPERTIES = [
  'first_party',
  'enablement_required',
  'accepted_account_types',
  'required_acr',
  'service_description',
] as const;

export function toClientMetadata(service: ServiceDefinition, issuer: string): ClientMetadata {
  const usesCode = service.grantTypes.includes('authorization_code');
  return {
    client_id: service.id,
    ...(service.clientSecret
      ? { client_secret: service.clientSecret, token_endpoint_auth_method: service.tokenEndpointAuthMethod }
      : { token_endpoint_auth_method: 'none' }),
    client_name: service.name,
    ...(service.logo ? { logo_uri: service.logo.startsWith('/') ? issuer + service.logo : service.logo } : {}),
    redirect_uris: service.redirectUris,
    post_logout_redirect_uris: service.postLogoutRedirectUris,
    ...(service.backchannelLogoutUri
      ? { backchannel_logout_uri: service.backchannelLogoutUri, backchannel_logout_session_required: true }
      : {}),
    grant_types: service.grantTypes,
    response_types: usesCode ? ['code'] : [],
    scope: service.scopes.join(' '),
    first_party: service.firstParty,
    enablement_required: service.enablementRequired,
    accepted_account_types: service.acceptedAccountTypes,
    required_acr: service.requiredAcr,
    service_description: service.description ?? null,
  };
}

/** The Service behind an oidc-provider Client (its metadata, read back). */
export function serviceFromClient(client: { clientId: string; clientName?: string; logoUri?: string; metadata(): ClientMetadata }): Service {
  const m = client.metadata();
  return {
    id: client.clientId,
    name: client.clientName ?? client.clientId,
    description: (m.service_description as string | null) ?? undefined,
    logo: client.logoUri,
    firstParty: m.first_party === true,
    enablementRequired: m.enablement_required === true,
    acceptedAccountTypes: (m.accepted_account_types as AccountType[] | undefined) ?? ['standard', 'mi'],
    requiredAcr: (m.required_acr as string | null | undefined) ?? null,
    formActionOrigins: formActionOrigins(m),
  };
}

/** The distinct origins of a client's redirect and post-logout redirect URIs. */
export function formActionOrigins(metadata: ClientMetadata): string[] {
  const uris = [...(metadata.redirect_uris ?? []), ...((metadata.post_logout_redirect_uris as string[] | undefined) ?? [])];
  return [...new Set(uris.map((uri) => URL.parse(uri)?.origin).filter((o): o is string => !!o && o !== 'null'))];
}
