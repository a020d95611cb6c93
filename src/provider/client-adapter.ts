import type { Adapter, AdapterPayload, ClientMetadata } from 'oidc-provider';
import type Provider from 'oidc-provider';
import { toClientMetadata, type ClientProperties } from '../services/catalogue.js';
import type { ServiceRecord, ServiceRepository } from '../services/repository.js';
import { secretMatches } from '../services/secrets.js';
import type { Registration } from './registration.js';
import type { CatalogueCache } from '../services/catalogue-cache.js';

/** A catalogue entry as oidc-provider's Client: its metadata, with the digests of its secrets. */
export function clientMetadataOf(service: ServiceRecord, issuer: string): ClientMetadata {
  return {
    ...toClientMetadata(service.id, service.settings, issuer),
    ...(service.secretDigest ? { client_secret: service.secretDigest } : {}),
    ...(service.previousSecret
      ? { previous_secret_digest: service.previousSecret.digest, previous_secret_valid_until: Math.floor(service.previousSecret.validUntil.getTime() / 1000) }
      : {}),
  };
}

/**
 * The provider's Client model reads the catalogue in PostgreSQL (through each instance's
 * cache, which PostgreSQL's announcements keep current) at every request that names a
 * client, so every instance sees a service registered, changed or disabled at its next
 * request. A disabled service is not found: refused at /auth, /token and everywhere else.
 * (The provider's own consoles are static clients and never reach this adapter.) The
 * provider writes only on a partner's registration, which provider/registration.ts turns into
 * a change of the catalogue.
 */
export function createClientAdapter(repository: ServiceRepository, cache: CatalogueCache, issuer: string, registration: Pick<Registration, 'clientWrites'>): Adapter {
  const readOnly = async () => {
    throw new Error('the catalogue changes through src/services/administration.ts, not through the provider');
  };
  return {
    async find(id: string): Promise<AdapterPayload | undefined> {
      const service = await cache.find(id, (wanted) => repository.find(wanted));
      if (!service || service.disabledAt) return undefined;
      return clientMetadataOf(service, issuer) as AdapterPayload;
    },
    // only dynamic registration (RFC 7591/7592) writes through the provider
    upsert: registration.clientWrites.upsert,
    destroy: registration.clientWrites.destroy,
    consume: readOnly,
    revokeByGrantId: readOnly,
    findByUid: async () => undefined,
    findByUserCode: async () => undefined,
  };
}

/**
 * The catalogue keeps digests, not secrets: the provider compares a presented secret with the
 * digest of the current one, or of the previous one within its grace period. The library awaits
 * this method (lib/shared/client_auth.js) and its author points to it for hashed secrets
 * (panva/node-oidc-provider#631). Symmetric algorithms, which would need the secret itself,
 * are not enabled (configuration.ts enabledJWA, clientAuthMethods).
 */
export function compareSecretDigests(provider: Provider): void {
  provider.Client.prototype.compareClientSecret = function compareClientSecret(presented: string) {
    const client = this as unknown as ClientProperties;
    const validUntil = client.previous_secret_valid_until;
    return secretMatches(
      {
        current: client.clientSecret,
        ...(typeof client.previous_secret_digest === 'string' && typeof validUntil === 'number'
          ? { previous: { digest: client.previous_secret_digest, validUntil } }
          : {}),
      },
      presented,
    );
  };
}
