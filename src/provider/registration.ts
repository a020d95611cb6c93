import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import type { Adapter, AdapterPayload, Configuration, KoaContextWithOIDC } from 'oidc-provider';
import type Provider from 'oidc-provider';
import { errors } from 'oidc-provider';
import type { ServiceAdministration } from '../services/administration.js';
import { toClientMetadata, type FieldProblem, type ServiceRules, type ServiceSettings } from '../services/catalogue.js';
import type { InitialAccessTokenRepository } from '../services/initial-access-token-repository.js';
import type { RegistrationAccessTokenRepository } from '../services/registration-access-token-repository.js';
import { settingsFromRegistration } from '../services/registration.js';
import { generateClientSecret, isSecretDigest, secretDigest } from '../services/secrets.js';

export interface RegistrationDeps {
  administration: ServiceAdministration;
  initialAccessTokens: InitialAccessTokenRepository;
  registrationAccessTokens: RegistrationAccessTokenRepository;
  rules: ServiceRules;
  issuer: string;
}

/** The one policy every initial access token carries, and the registration access tokens after it. */
const CATALOGUE_POLICY = 'catalogue';

/** Where the policy leaves the settings it checked, for the upsert that follows in the same request. */
const SETTINGS = 'catalogueSettings';

/** The registration request under way: the Client adapter's upsert and destroy need to know who asks. */
const registrationRequest = new AsyncLocalStorage<KoaContextWithOIDC>();

const REGISTRATION_ROUTES = new Set(['registration', 'client', 'client_update', 'client_delete']);

/** Metadata the provider generates and a partner keeps as they were given. */
const PROVIDER_ASSIGNED = ['client_id', 'client_id_issued_at', 'client_secret', 'client_secret_expires_at'] as const;

/** RFC 7591 §3.2.2: invalid_redirect_uri when a redirect URI is at fault, invalid_client_metadata otherwise. */
function refusal(problems: FieldProblem[]) {
  const description = problems.map((p) => `${p.field}: ${p.message}`).join('; ');
  if (!problems.some((p) => p.field.startsWith('redirect_uris'))) return new errors.InvalidClientMetadata(description);
  // its constructor fixes the description to the authorization endpoint's meaning
  return Object.assign(new errors.InvalidRedirectUri(), { error_description: description });
}

/**
 * Dynamic registration (RFC 7591) and management (RFC 7592) through oidc-provider, into the
 * catalogue. Only an initial access token an administrator issued opens /reg; the catalogue
 * policy rewrites every request to what the catalogue stores (the partner's fields checked as
 * the console checks them, the rest the administrator's), so the answer says what was registered.
 */
export function createRegistration(deps: RegistrationDeps) {
  const settingsOf = (metadata: Record<string, unknown>, base: Parameters<typeof settingsFromRegistration>[1]) =>
    settingsFromRegistration(metadata, base, deps.rules, deps.issuer);

  const features: Pick<NonNullable<Configuration['features']>, 'registration' | 'registrationManagement'> = {
    registration: {
      enabled: true,
      initialAccessToken: true,
      issueRegistrationAccessToken: true,
      idFactory: () => `partner-${randomBytes(6).toString('hex')}`,
      secretFactory: async () => generateClientSecret(),
      policies: {
        async [CATALOGUE_POLICY](ctx, properties) {
          const existing = ctx.oidc.route === 'client_update' ? await deps.administration.repository.find(ctx.oidc.client!.clientId) : undefined;
          const checked = settingsOf(properties, existing?.settings ?? null);
          if (!checked.ok) throw refusal(checked.problems);
          // what the Client adapter's upsert stores, once the provider has checked the rest
          ctx.state[SETTINGS] = checked.settings;
          const kept = Object.fromEntries(PROVIDER_ASSIGNED.filter((k) => properties[k] !== undefined).map((k) => [k, properties[k]]));
          for (const key of Object.keys(properties)) delete properties[key];
          Object.assign(properties, toClientMetadata(String(kept.client_id), checked.settings, deps.issuer), kept);
        },
      },
    },
    registrationManagement: { enabled: true, rotateRegistrationAccessToken: true },
  };

  /** The InitialAccessToken model: read from PostgreSQL while usable; issued only by the administration. */
  const initialAccessTokenAdapter: Adapter = {
    async find(value: string): Promise<AdapterPayload | undefined> {
      const token = await deps.initialAccessTokens.usable(secretDigest(value));
      if (!token) return undefined;
      return {
        jti: value,
        kind: 'InitialAccessToken',
        iat: Math.floor(token.createdAt.getTime() / 1000),
        exp: Math.floor(token.expiresAt.getTime() / 1000),
        policies: [CATALOGUE_POLICY],
      } as AdapterPayload;
    },
    upsert: notHere('initial access tokens are issued by the administration (services/initial-access-tokens.ts)'),
    destroy: async () => undefined,
    consume: async () => undefined,
    revokeByGrantId: async () => undefined,
    findByUid: async () => undefined,
    findByUserCode: async () => undefined,
  };

  /** The RegistrationAccessToken model: in PostgreSQL beside the service it manages. */
  const registrationAccessTokenAdapter: Adapter = {
    async upsert(id: string, payload: AdapterPayload) {
      await deps.registrationAccessTokens.insert(secretDigest(id), String(payload.clientId), payload as Record<string, unknown>);
    },
    find: async (id: string) => (await deps.registrationAccessTokens.find(secretDigest(id))) as AdapterPayload | undefined,
    destroy: (id: string) => deps.registrationAccessTokens.remove(secretDigest(id)),
    consume: async () => undefined,
    revokeByGrantId: async () => undefined,
    findByUid: async () => undefined,
    findByUserCode: async () => undefined,
  };

  /** What the Client adapter does on the provider's write: a registration's service created, updated or removed. */
  const clientWrites = {
    async upsert(id: string, payload: AdapterPayload): Promise<void> {
      const ctx = inRegistration();
      const creating = ctx.oidc.route === 'registration';
      const settings = ctx.state[SETTINGS] as ServiceSettings | undefined;
      if (!settings) throw new Error('a registration reached the catalogue without the catalogue policy');
      // a digest is the secret the service already has; anything else was generated for this request
      const secret = typeof payload.client_secret === 'string' && !isSecretDigest(payload.client_secret) ? payload.client_secret : null;
      if (!creating) {
        const outcome = await deps.administration.updateRegistered(id, settings, secret);
        if (!outcome.ok) throw new errors.InvalidClientMetadata('client_id: no longer registered');
        return;
      }
      const token = ctx.oidc.entities.InitialAccessToken;
      const outcome = await deps.administration.registerWithToken({ id, settings, secret, tokenDigest: secretDigest(String(token?.jti)) });
      if (outcome === 'token_spent') throw new errors.InvalidToken('initial access token spent, expired or revoked');
      if (outcome === 'taken') throw new errors.InvalidClientMetadata('client_id: already registered');
    },
    async destroy(id: string): Promise<void> {
      inRegistration();
      await deps.administration.remove(id, { kind: 'service', via: 'registration' });
    },
  };

  /** Runs the registration routes where the adapters can see the request, and keeps digests out of their answers. */
  function install(provider: Provider): void {
    provider.use(async (ctx, next) => {
      if (ctx.path !== '/reg' && !ctx.path.startsWith('/reg/')) return next();
      await registrationRequest.run(ctx as KoaContextWithOIDC, next);
      const route = (ctx as KoaContextWithOIDC).oidc?.route;
      const body = ctx.body as Record<string, unknown> | undefined;
      if (!route || !REGISTRATION_ROUTES.has(route) || !body || typeof body !== 'object') return;
      if (typeof body.client_secret === 'string' && isSecretDigest(body.client_secret)) {
        delete body.client_secret;
        delete body.client_secret_expires_at;
      }
      delete body.previous_secret_digest;
      delete body.previous_secret_valid_until;
    });
  }

  return { features, initialAccessTokenAdapter, registrationAccessTokenAdapter, clientWrites, install };
}

function inRegistration(): KoaContextWithOIDC {
  const ctx = registrationRequest.getStore();
  if (!ctx) throw new Error('the catalogue changes through src/services/administration.ts, not through the provider');
  return ctx;
}

const notHere = (why: string) => async () => {
  throw new Error(why);
};

export type Registration = ReturnType<typeof createRegistration>;
