import { StoreFullError } from '../adapters/common.js';
import { minutesOf } from '../http/admission.js';
import { isOutage, OUTAGE_RETRY_AFTER_SECONDS } from '../http/outage.js';
import type { ClaimsParameter, ClientMetadata, Configuration, KoaContextWithOIDC } from 'oidc-provider';
import { refreshTokenTtl, type TokenLifetimes } from '../services/lifetimes.js';
import { errors } from 'oidc-provider';
import type { SecondFactorStatus } from '../accounts/second-factor.js';
import type { AccountRepository } from '../accounts/repository.js';
import type { RenderPage } from '../http/views.js';
import type { Gate } from '../interactions/gates/gate.js';
import { SESSION_CHECKS } from '../interactions/session-checks.js';
import { t } from '../i18n/index.js';
import { createFindAccount, type EnablementOf } from './account.js';
import { CLAIMS_BY_SCOPE, releasableClaims } from '../accounts/claims.js';
import { SUPPORTED_ACR_VALUES } from '../accounts/acr.js';
import { ADMIN_API_SCOPE, SERVICE_METADATA_PROPERTIES, serviceFromClient, type ClientProperties } from '../services/catalogue.js';
import type { ProviderKeys } from './keys.js';
import { buildInteractionPolicy } from './policy.js';

/** The SSO session's cookie: whoever carries it may sign in without a password. */
export const SESSION_COOKIE = 'iam_session';
/** A sign-in under way, and the way back to it: the provider's short cookies. */
export const INTERACTION_COOKIES = { interaction: 'iam_interaction', resume: 'iam_resume' } as const;

/** a full in-process store empties as sign-ins under way end or expire: minutes */
const STORE_FULL_RETRY_AFTER_SECONDS = 180;

const MINUTE = 60;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export const TTL = {
  AccessToken: 10 * MINUTE,
  AuthorizationCode: MINUTE,
  ClientCredentials: 10 * MINUTE,
  IdToken: 10 * MINUTE,
  Interaction: 30 * MINUTE,
  /** a sign-in lasts a working day */
  Session: 10 * HOUR,
  RefreshToken: 14 * DAY,
  Grant: 14 * DAY,
} as const;

export interface ProviderConfigurationDeps {
  accounts: AccountRepository;
  /** what the second_factor gate needs to know while signing in */
  secondFactorStatus(accountId: string): Promise<SecondFactorStatus>;
  enablementOf: EnablementOf;
  keys: ProviderKeys;
  clients: Configuration['clients'];
  adapter: Configuration['adapter'];
  gates: readonly Gate[];
  renderPage: RenderPage;
  issuer: string;
  /** dynamic registration and its management (provider/registration.ts) */
  registration: Pick<NonNullable<Configuration['features']>, 'registration' | 'registrationManagement'>;
  /** told when a request asked, through the claims parameter, for claims its service may not have */
  onClaimsDropped(ctx: KoaContextWithOIDC, claims: string[]): void;
}

export function buildConfiguration(deps: ProviderConfigurationDeps): Configuration {
  const secure = deps.issuer.startsWith('https:');
  return {
    adapter: deps.adapter,
    clients: deps.clients,
    jwks: deps.keys.jwks as Configuration['jwks'],
    cookies: {
      keys: deps.keys.cookieKeys,
      names: { session: SESSION_COOKIE, ...INTERACTION_COOKIES },
      // from ISSUER, not the request: behind a TLS proxy the hop to us may be plain http
      long: { signed: true, httpOnly: true, sameSite: 'lax', secure },
      short: { signed: true, httpOnly: true, sameSite: 'lax', secure },
    },
    findAccount: createFindAccount(deps.accounts, deps.secondFactorStatus, deps.enablementOf),
    claims: {
      // standalone claims: released whenever the session has them (acr, amr) or asked for
      acr: null,
      amr: null,
      sid: null,
      auth_time: null,
      iss: null,
      ...Object.fromEntries(Object.entries(CLAIMS_BY_SCOPE).map(([scope, claims]) => [scope, [...claims]])),
      // every ID token says how the person signed in, asked or not (the Italian profile expects it)
      openid: ['sub', 'acr', 'amr', 'auth_time'],
    },
    // admin: requested with client_credentials by the ministry's admin clients (admin/api/)
    scopes: ['openid', 'offline_access', ADMIN_API_SCOPE, ...Object.keys(CLAIMS_BY_SCOPE).filter((s) => s !== 'openid')],
    acrValues: [...SUPPORTED_ACR_VALUES],
    // 'none': the provider's own consoles, which read the SSO session and need no token
    responseTypes: ['code', 'none'],
    pkce: { required: () => true },
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none'],
    enabledJWA: {
      idTokenSigningAlgValues: ['RS256', 'ES256'],
      userinfoSigningAlgValues: ['RS256', 'ES256'],
      introspectionSigningAlgValues: ['RS256', 'ES256'],
      authorizationSigningAlgValues: ['RS256', 'ES256'],
      requestObjectSigningAlgValues: ['RS256', 'ES256', 'PS256'],
    },
    extraClientMetadata: {
      properties: [...SERVICE_METADATA_PROPERTIES],
    },
    features: {
      devInteractions: { enabled: false },
      claimsParameter: {
        enabled: true,
        assertClaimsParameter: (ctx, claims, client) => trimClaimsParameter(ctx, claims, client, deps.onClaimsDropped),
      },
      // a service may introspect or revoke only the tokens issued to it
      introspection: { enabled: true, allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId },
      revocation: { enabled: true, allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId },
      clientCredentials: { enabled: true },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => {
          ctx.type = 'html';
          ctx.body = await deps.renderPage('logout', { title: t('logout.title'), form, ...serviceBanner(ctx) });
        },
        postLogoutSuccessSource: async (ctx) => {
          ctx.type = 'html';
          ctx.body = await deps.renderPage('logout-done', { title: t('logout.done_title'), ...serviceBanner(ctx) });
        },
      },
      dPoP: { enabled: false },
      userinfo: { enabled: true },
      ...deps.registration,
    },
    interactions: {
      policy: buildInteractionPolicy(deps.gates, SESSION_CHECKS),
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    // Services of the ministry's own do not ask for consent: their grant follows the request.
    async loadExistingGrant(ctx) {
      const grantId = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session!.grantIdFor(ctx.oidc.client!.clientId);
      const existing = grantId ? await ctx.oidc.provider.Grant.find(grantId) : undefined;
      if (!serviceFromClient(ctx.oidc.client!).firstParty) return existing;
      const grant = existing ?? new ctx.oidc.provider.Grant({ accountId: ctx.oidc.session!.accountId!, clientId: ctx.oidc.client!.clientId });
      const scopes = [...ctx.oidc.requestParamOIDCScopes].filter((s) => s !== 'offline_access' || ctx.oidc.prompts.has('consent'));
      const missingScopes = scopes.filter((s) => !grant.getOIDCScope().split(' ').includes(s));
      const missingClaims = [...ctx.oidc.requestParamClaims].filter((c) => !grant.getOIDCClaims().includes(c));
      if (existing && missingScopes.length === 0 && missingClaims.length === 0) return existing;
      if (missingScopes.length) grant.addOIDCScope(missingScopes.join(' '));
      if (missingClaims.length) grant.addOIDCClaims(missingClaims);
      await grant.save();
      return grant;
    },
    fetch: outboundFetch(deps.issuer),
    rotateRefreshToken: () => true,
    issueRefreshToken: async (_ctx, client, code) =>
      client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
    ttl: {
      ...TTL,
      // each service's own lifetimes, its profile's where it sets none (services/lifetimes.ts)
      AccessToken: (_ctx, _token, client) => lifetimesOfClient(client).accessToken,
      ClientCredentials: (_ctx, _token, client) => lifetimesOfClient(client).accessToken,
      IdToken: (_ctx, _token, client) => lifetimesOfClient(client).idToken,
      RefreshToken: (_ctx, token, client) => refreshTokenTtl(lifetimesOfClient(client), token.iiat ?? epochSeconds(), epochSeconds()),
    },
    renderError: async (ctx, out, error) => {
      ctx.type = 'html';
      if (isOutage(error)) {
        ctx.status = 503;
        ctx.set('Retry-After', String(OUTAGE_RETRY_AFTER_SECONDS));
        ctx.body = await deps.renderPage('errors/oidc', { title: t('error.title'), message: t('error.unavailable'), detail: null });
        return;
      }
      if (error instanceof StoreFullError) {
        ctx.status = 503;
        ctx.set('Retry-After', String(STORE_FULL_RETRY_AFTER_SECONDS));
        ctx.body = await deps.renderPage('errors/oidc', { title: t('error.title'), message: t('overload.message', { minutes: minutesOf(STORE_FULL_RETRY_AFTER_SECONDS) }), detail: null });
        return;
      }
      const expired = error instanceof errors.SessionNotFound;
      ctx.body = await deps.renderPage('errors/oidc', {
        title: t('error.title'),
        message: expired ? t('error.interaction_expired') : t('error.oidc'),
        detail: expired ? null : t('error.oidc_detail', { error: out.error, description: out.error_description ?? '' }),
      });
    },
  };
}

const epochSeconds = () => Math.floor(Date.now() / 1000);

/** The lifetimes the catalogue resolved for a client (toClientMetadata); the defaults for the consoles, which get no tokens. */
function lifetimesOfClient(client: object | undefined): TokenLifetimes {
  const lifetimes = (client as ClientProperties | undefined)?.token_lifetimes;
  return lifetimes ?? { accessToken: TTL.AccessToken, idToken: TTL.IdToken, refreshTokenIdle: TTL.RefreshToken, refreshTokenAbsolute: TTL.RefreshToken };
}

/**
 * The claims parameter may ask only for what the service is registered for: anything
 * else is dropped from the request before consent or grant see it (the library's own
 * check, members null or objects, is kept), and the attempt is reported.
 */
function trimClaimsParameter(
  ctx: KoaContextWithOIDC,
  claims: ClaimsParameter,
  client: { scope?: string },
  onDropped: ProviderConfigurationDeps['onClaimsDropped'],
): void {
  const releasable = releasableClaims(client.scope);
  const dropped = new Set<string>();
  for (const container of ['userinfo', 'id_token'] as const) {
    const members = claims[container] as Record<string, unknown> | undefined;
    if (members === undefined) continue;
    for (const [claim, value] of Object.entries(members)) {
      if (value !== null && (typeof value !== 'object' || Array.isArray(value))) {
        throw new errors.InvalidRequest(`claims.${container} members must be null or objects`);
      }
      if (!releasable.has(claim)) {
        delete members[claim];
        dropped.add(claim);
      }
    }
  }
  if (dropped.size === 0) return;
  ctx.oidc.params!.claims = JSON.stringify(claims);
  onDropped(ctx, [...dropped]);
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * oidc-provider refuses outgoing requests (back-channel logout) to special-use
 * addresses. A provider that itself runs on loopback — development, the demo,
 * tests — may call services on loopback; a public deployment keeps the guard.
 */
function outboundFetch(issuer: string): NonNullable<Configuration['fetch']> {
  const local = LOOPBACK_HOSTS.has(new URL(issuer).hostname);
  return (url, options) => {
    const target = new URL(url instanceof Request ? url.url : url);
    if (local && LOOPBACK_HOSTS.has(target.hostname)) {
      const { dispatcher: _guard, ...unguarded } = options as RequestInit & { dispatcher?: unknown };
      return fetch(url, unguarded);
    }
    return fetch(url, options);
  };
}

function serviceBanner(ctx: KoaContextWithOIDC): { service: { name: string; logo?: string } | null } {
  const client = ctx.oidc.client;
  return { service: client ? { name: client.clientName ?? client.clientId, logo: client.logoUri } : null };
}
