import Provider from 'oidc-provider';
import type { Configuration } from 'oidc-provider';
import type { AccountRepository } from '../accounts/repository.js';
import type { Config } from '../config.js';
import type { RenderPage } from '../http/views.js';
import type { Gate } from '../interactions/gates/gate.js';
import type { Logger } from '../logger.js';
import { loadServiceDefinitions, toClientMetadata, type ServiceDefinition } from './clients.js';
import { buildConfiguration } from './configuration.js';
import type { ProviderKeys } from './keys.js';

export interface ProviderDeps {
  config: Pick<Config, 'issuer' | 'clientsFile' | 'trustProxy'>;
  accounts: AccountRepository;
  keys: ProviderKeys;
  adapter: Configuration['adapter'];
  gates: readonly Gate[];
  renderPage: RenderPage;
  logger: Logger;
  /** overrides clients.json (tests) */
  services?: ServiceDefinition[];
}

export function createProvider(deps: ProviderDeps): { provider: Provider; services: ServiceDefinition[] } {
  const services = deps.services ?? loadServiceDefinitions(deps.config.clientsFile);
  const configuration = buildConfiguration({
    accounts: deps.accounts,
    keys: deps.keys,
    adapter: deps.adapter,
    clients: services.map((s) => toClientMetadata(s, deps.config.issuer)),
    gates: deps.gates,
    renderPage: deps.renderPage,
    issuer: deps.config.issuer,
  });
  const provider = new Provider(deps.config.issuer, configuration);
  provider.proxy = deps.config.trustProxy;

  const log = deps.logger.child({ component: 'oidc' });
  provider.on('server_error', (ctx, error) => log.error({ err: error, path: ctx.path }, 'provider server error'));
  provider.on('backchannel.error', (_ctx, error, client) =>
    log.warn({ err: error, clientId: client.clientId }, 'back-channel logout delivery failed'));
  provider.on('grant.error', (_ctx, error) => log.info({ error: error.message }, 'token request refused'));
  return { provider, services };
}
