import type { EnablementOf } from './account.js';
import { StoreFullError } from '../adapters/common.js';
import { isOutage } from '../http/outage.js';
import Provider, { errors } from 'oidc-provider';
import type { Adapter, Configuration, KoaContextWithOIDC } from 'oidc-provider';
import type { SecondFactorStatus } from '../accounts/second-factor.js';
import type { AccountRepository } from '../accounts/repository.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Config } from '../config.js';
import type { RenderPage } from '../http/views.js';
import type { Gate } from '../interactions/gates/gate.js';
import type { Logger } from '../logger.js';
import type { ServiceRepository } from '../services/repository.js';
import { compareSecretDigests, createClientAdapter } from './client-adapter.js';
import type { Registration } from './registration.js';
import type { CatalogueCache } from '../services/catalogue-cache.js';
import { buildConfiguration } from './configuration.js';
import { consoleClients } from '../services/consoles.js';
import type { ProviderKeys } from './keys.js';

export interface ProviderDeps {
  config: Pick<Config, 'issuer'>;
  accounts: AccountRepository;
  secondFactorStatus(accountId: string): Promise<SecondFactorStatus>;
  enablementOf: EnablementOf;
  keys: ProviderKeys;
  /** the store of the provider's short-lived entries (every model but Client) */
  adapter: (modelName: string) => Adapter;
  gates: readonly Gate[];
  renderPage: RenderPage;
  logger: Logger;
  audit: AuditLog;
  /** the services registered: the provider's clients, read at every request */
  catalogue: ServiceRepository;
  /** the services read, kept until PostgreSQL announces a change */
  catalogueCache: CatalogueCache;
  /** dynamic registration into the catalogue (RFC 7591/7592) */
  registration: Registration;
}

export function createProvider(deps: ProviderDeps): Provider {
  const clients = createClientAdapter(deps.catalogue, deps.catalogueCache, deps.config.issuer, deps.registration);
  const durable: Record<string, Adapter> = {
    Client: clients,
    InitialAccessToken: deps.registration.initialAccessTokenAdapter,
    RegistrationAccessToken: deps.registration.registrationAccessTokenAdapter,
  };
  const configuration = buildConfiguration({
    accounts: deps.accounts,
    secondFactorStatus: deps.secondFactorStatus,
    enablementOf: deps.enablementOf,
    keys: deps.keys,
    // the catalogue and its registration tokens live in PostgreSQL; the rest in the short-lived store
    adapter: (model: string) => durable[model] ?? deps.adapter(model),
    registration: deps.registration.features,
    clients: consoleClients(deps.config.issuer),
    gates: deps.gates,
    renderPage: deps.renderPage,
    issuer: deps.config.issuer,
    onClaimsDropped: (ctx, dropped) =>
      void auditQuietly({ action: 'authorization.claims_dropped', outcome: 'refused', ctx, details: { claims: dropped } }),
  });
  const provider = new Provider(deps.config.issuer, configuration);
  compareSecretDigests(provider);
  deps.registration.install(provider);
  // the app rewrites the forwarding headers to the issuer's origin before the provider
  // reads a request (http/request-origin.ts): what they say is ours, never the client's
  provider.proxy = true;

  const log = deps.logger.child({ component: 'oidc' });
  const where = (ctx: KoaContextWithOIDC) => ({ requestId: ctx.state.requestId as string | undefined, route: ctx.oidc?.route });
  provider.on('server_error', (ctx, error) => {
    if (error instanceof StoreFullError) {
      ctx.state.outage = true;
      ctx.state.unavailable = 'store_full';
      return log.warn(where(ctx), 'the in-process store is full: new sign-ins refused until some end');
    }
    if (!isOutage(error)) return log.error({ err: error, ...where(ctx) }, 'provider server error');
    // a protocol endpoint's JSON answer becomes a 503 after the provider returns (app.ts)
    ctx.state.outage = true;
    log.warn({ err: error, ...where(ctx) }, 'a store is unreachable');
  });
  provider.on('backchannel.error', (_ctx, error, client) =>
    log.warn({ err: error, clientId: client.clientId }, 'back-channel logout delivery failed'));
  provider.on('grant.error', (ctx, error) => {
    log.info({ error: error.message, ...where(ctx) }, 'token request refused');
    // replayed codes and refresh tokens land here: the grant has been revoked, and this records why
    if (error instanceof errors.InvalidGrant) {
      void auditQuietly({ action: 'token.refused', outcome: 'refused', ctx, details: { error: error.error, detail: error.error_detail } });
    }
  });

  /** Audit entries from provider events: a failed write is logged, never turned into a failed request. */
  async function auditQuietly(entry: { action: string; outcome: 'refused'; ctx: KoaContextWithOIDC; details: Record<string, unknown> }) {
    const { ctx } = entry;
    await deps.audit
      .record({
        actorKind: 'anonymous',
        action: entry.action,
        outcome: entry.outcome,
        ip: ctx.ip,
        userAgent: ctx.get('user-agent'),
        clientId: ctx.oidc?.client?.clientId ?? null,
        details: entry.details,
      })
      .catch((error: unknown) => log.error({ err: error, action: entry.action }, 'audit entry not written'));
  }
  return provider;
}
