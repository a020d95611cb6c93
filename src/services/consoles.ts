import type { ClientMetadata } from 'oidc-provider';

/**
 * The provider's own consoles sign people in as clients of the provider, so the login page,
 * the gates and the SSO session are the same as for every service. They ask for no token
 * (response_type none): the console then reads the SSO session itself.
 */
export interface Console {
  clientId: string;
  path: string;
  /** where the provider sends the browser back after the sign-in */
  returnPath: string;
}

/** SIDI Gestione Utenze, for security officers (src/officer/). */
export const OFFICER_CONSOLE = {
  clientId: 'sidi-gestione-utenze',
  path: '/sidi/gestione-utenze',
  returnPath: '/sidi/gestione-utenze/accesso',
} as const satisfies Console;

/** The Area riservata, everyone's own data and security (src/area/). */
export const AREA_RISERVATA = {
  clientId: 'area-riservata',
  path: '/area-riservata',
  returnPath: '/area-riservata/accesso',
} as const satisfies Console;

/** The administration: audit log, staff import (src/admin/). */
export const ADMIN_CONSOLE = {
  clientId: 'admin-console',
  path: '/admin',
  returnPath: '/admin/accesso',
} as const satisfies Console;

export const CONSOLE_CLIENT_IDS: ReadonlySet<string> = new Set([OFFICER_CONSOLE.clientId, AREA_RISERVATA.clientId, ADMIN_CONSOLE.clientId]);

export function consoleClients(issuer: string): ClientMetadata[] {
  const common = (console: Console): ClientMetadata => ({
    client_id: console.clientId,
    token_endpoint_auth_method: 'none',
    grant_types: [],
    response_types: ['none'],
    redirect_uris: [issuer + console.returnPath],
    post_logout_redirect_uris: [issuer + console.path],
    scope: 'openid',
    first_party: true,
    enablement_required: false,
    required_acr: null,
  });
  return [
    {
      ...common(OFFICER_CONSOLE),
      client_name: 'SIDI – Gestione Utenze',
      logo_uri: `${issuer}/assets/logos/sidi.svg`,
      // DOMAIN.md §5 gate 5: SIDI accepts only MI accounts; the officer profile is checked by the console
      accepted_account_types: ['mi'],
      service_description: 'Gestione delle utenze del personale scolastico',
    },
    {
      ...common(AREA_RISERVATA),
      client_name: 'Area riservata',
      accepted_account_types: ['standard', 'mi'],
      service_description: 'I tuoi dati, la password e la sicurezza della tua utenza',
    },
    {
      ...common(ADMIN_CONSOLE),
      client_name: 'Amministrazione IAM Istruzione',
      // the administrator role and two factors are checked by the console
      accepted_account_types: ['standard', 'mi'],
      service_description: 'Amministrazione della piattaforma',
    },
  ];
}

/**
 * The provider's authorization request that signs a person in to a console. `acr` asks for
 * two factors; `fresh` makes the person sign in again even within a session (a sensitive
 * change); `returnTo`, a path of the console, is where the console's return leads.
 */
export function consoleSignInUrl(issuer: string, console: Console, options: { acr?: string; fresh?: boolean; returnTo?: string } = {}): string {
  const query = new URLSearchParams({
    client_id: console.clientId,
    response_type: 'none',
    scope: 'openid',
    redirect_uri: issuer + console.returnPath,
    ...(options.acr ? { acr_values: options.acr } : {}),
    ...(options.fresh ? { prompt: 'login' } : {}),
    ...(options.returnTo ? { state: options.returnTo } : {}),
  });
  return `/auth?${query}`;
}

/** The path to go back to after a console's sign-in: only one of its own pages. */
export function consoleReturnPath(console: Console, state: unknown): string | undefined {
  if (typeof state !== 'string' || state.length > 200) return undefined;
  return state.startsWith(`${console.path}/`) && /^[\w/-]+$/.test(state) && !state.includes('//') ? state : undefined;
}

export interface ServiceLabel {
  name: string;
  logo?: string;
}

/** A service's name and logo by client id, the provider's own consoles included (Area riservata, notices). */
export type ServiceLookup = (clientId: string) => ServiceLabel | undefined;

/** Reads the catalogue's names once per page: `const serviceOf = await directory()`. */
export type ServiceDirectory = () => Promise<ServiceLookup>;

export function serviceDirectory(labels: () => Promise<Map<string, ServiceLabel>>): ServiceDirectory {
  const consoles = consoleClients('').map((c): [string, ServiceLabel] => [c.client_id, { name: String(c.client_name) }]);
  return async () => {
    const known = new Map<string, ServiceLabel>([...(await labels()), ...consoles]);
    return (clientId) => known.get(clientId);
  };
}
