import type { ClientMetadata } from 'oidc-provider';

/**
 * The provider's own consoles sign people in as clients of the provider, so the login page,
 * the gates and the SSO session are the same as for every service. They ask for no token
 * (response_type none): the console then reads the SSO session itself.
 */
export const OFFICER_CONSOLE = {
  clientId: 'sidi-gestione-utenze',
  path: '/sidi/gestione-utenze',
  /** where the provider sends the browser back after the sign-in */
  returnPath: '/sidi/gestione-utenze/accesso',
} as const;

export function consoleClients(issuer: string): ClientMetadata[] {
  return [
    {
      client_id: OFFICER_CONSOLE.clientId,
      client_name: 'SIDI – Gestione Utenze',
      logo_uri: `${issuer}/assets/logos/sidi.svg`,
      token_endpoint_auth_method: 'none',
      grant_types: [],
      response_types: ['none'],
      redirect_uris: [issuer + OFFICER_CONSOLE.returnPath],
      post_logout_redirect_uris: [issuer + OFFICER_CONSOLE.path],
      scope: 'openid',
      first_party: true,
      enablement_required: false,
      // DOMAIN.md §5 gate 5: SIDI accepts only MI accounts; the officer profile is checked by the console
      accepted_account_types: ['mi'],
      required_acr: null,
      service_description: 'Gestione delle utenze del personale scolastico',
    },
  ];
}
