import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { apiClientDetail, type AuditLog } from '../audit/audit-log.js';
import type { Db } from '../db/index.js';
import type { ServiceOrigin } from '../db/schema.js';
import {
  serviceIdProblem,
  settingsOfDefinition,
  validateSettings,
  type FieldProblem,
  type ServiceDefinition,
  type ServiceRules,
  type ServiceSettings,
} from './catalogue.js';
import { createServiceRepository, type ServiceRecord } from './repository.js';
import { createInitialAccessTokenRepository } from './initial-access-token-repository.js';
import { generateClientSecret, secretDigest } from './secrets.js';

/**
 * Who changes the catalogue: an administrator (console, API), the operator (CLI), the start
 * (clients.json), a registered service itself (RFC 7592: the entry's client id says which; the
 * audit log's actor id holds accounts only).
 */
export interface CatalogueActor {
  kind: 'admin' | 'system' | 'service';
  id?: string;
  ip?: string;
  userAgent?: string;
  via: 'console' | 'cli' | 'api' | 'file' | 'registration';
  /** the admin API client acting (kind 'service', via 'api') */
  client?: string;
}

/** What the audit entry's details say of who acted. */
export const actorDetails = (actor: { via: string; client?: string }) => ({ via: actor.via, ...apiClientDetail(actor) });

export type Refusal =
  | { ok: false; reason: 'not_found' }
  | { ok: false; reason: 'invalid'; problems: FieldProblem[] }
  | { ok: false; reason: 'public_client' };

export type Registered = { ok: true; service: ServiceRecord; secret: string | null };

/** The longest a rotated secret may stay valid beside the new one. */
export const MAX_SECRET_GRACE_SECONDS = 30 * 24 * 60 * 60;

/** The settings whose change the audit entry names (never a secret). */
const changedFields = (before: ServiceSettings, after: ServiceSettings) =>
  [...new Set([...Object.keys(before), ...Object.keys(after)])].filter(
    (key) => JSON.stringify(before[key as keyof ServiceSettings]) !== JSON.stringify(after[key as keyof ServiceSettings]),
  );

/** A digest of a clients.json entry (keys sorted): whether the file changed it since it was last applied. */
export function definitionDigest(definition: ServiceDefinition): string {
  const canonical = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(canonical)
      : value && typeof value === 'object'
        ? Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])]))
        : value;
  return createHash('sha256').update(JSON.stringify(canonical(definition))).digest('base64url');
}

/**
 * Every change to the catalogue, the same for the console, the CLI and the API: validated
 * field by field, written with its audit entry in one transaction, a new secret returned
 * once and kept only as a digest.
 */
export function createServiceAdministration(deps: { db: Db; audit: AuditLog; rules: ServiceRules }) {
  const repository = createServiceRepository(deps.db);
  const tokens = createInitialAccessTokenRepository(deps.db);

  const audit = (trx: Db, actor: CatalogueActor, action: string, clientId: string, details: Record<string, unknown> = {}) =>
    deps.audit.record(
      { actorKind: actor.kind, actorId: actor.id ?? null, action, outcome: 'success', ip: actor.ip, userAgent: actor.userAgent, clientId, details: { ...actorDetails(actor), ...details } },
      trx,
    );

  /** Runs `change` on the locked row; not_found when there is none. */
  async function withService<T>(id: string, change: (trx: Db, service: ServiceRecord) => Promise<T>): Promise<T | { ok: false; reason: 'not_found' }> {
    return deps.db.transaction().execute(async (trx) => {
      const service = await repository.find(id, trx, { lock: true });
      if (!service) return { ok: false as const, reason: 'not_found' as const };
      return change(trx, service);
    });
  }

  const reload = async (trx: Db, id: string) => (await repository.find(id, trx))!;

  return {
    repository,

    async register(input: { id: string; settings: unknown }, actor: CatalogueActor, origin: ServiceOrigin): Promise<Registered | Refusal> {
      const idProblem = serviceIdProblem(input.id);
      const checked = validateSettings(input.settings, deps.rules);
      const problems = [...(idProblem ? [{ field: 'id', message: idProblem }] : []), ...(checked.ok ? [] : checked.problems)];
      if (problems.length || !checked.ok) return { ok: false, reason: 'invalid', problems };
      const settings = checked.settings;
      const secret = settings.tokenEndpointAuthMethod === 'none' ? null : generateClientSecret();
      return deps.db.transaction().execute(async (trx): Promise<Registered | Refusal> => {
        const inserted = await repository.insert({ id: input.id, settings, origin, secretDigest: secret && secretDigest(secret) }, trx);
        if (!inserted) return { ok: false, reason: 'invalid', problems: [{ field: 'id', message: 'is already registered' }] };
        await audit(trx, actor, 'service.registered', input.id, { name: settings.name });
        return { ok: true, service: await reload(trx, input.id), secret };
      });
    },

    /** New settings; a public client made confidential gets its first secret (returned), the reverse loses its secret. */
    async update(id: string, input: unknown, actor: CatalogueActor): Promise<Registered | Refusal> {
      const checked = validateSettings(input, deps.rules);
      if (!checked.ok) return { ok: false, reason: 'invalid', problems: checked.problems };
      const settings = checked.settings;
      return withService(id, async (trx, before): Promise<Registered> => {
        const confidential = settings.tokenEndpointAuthMethod !== 'none';
        const secret = confidential && !before.secretDigest ? generateClientSecret() : null;
        await repository.update(
          id,
          {
            settings,
            ...(secret ? { secretDigest: secretDigest(secret) } : {}),
            ...(!confidential ? { secretDigest: null, previousSecret: null } : {}),
          },
          trx,
        );
        await audit(trx, actor, 'service.updated', id, { fields: changedFields(before.settings, settings), ...(secret ? { secret: 'issued' } : {}) });
        return { ok: true, service: await reload(trx, id), secret };
      });
    },

    /** A new secret; the one it replaces stays valid for graceSeconds (0: refused at once). */
    async rotateSecret(id: string, graceSeconds: number, actor: CatalogueActor): Promise<Registered | Refusal> {
      if (!Number.isInteger(graceSeconds) || graceSeconds < 0 || graceSeconds > MAX_SECRET_GRACE_SECONDS) {
        return { ok: false, reason: 'invalid', problems: [{ field: 'grace', message: `must be a whole number of seconds from 0 to ${MAX_SECRET_GRACE_SECONDS}` }] };
      }
      return withService(id, async (trx, before): Promise<Registered | Refusal> => {
        if (!before.secretDigest) return { ok: false, reason: 'public_client' };
        const secret = generateClientSecret();
        const validUntil = new Date(Date.now() + graceSeconds * 1000);
        await repository.update(id, { secretDigest: secretDigest(secret), previousSecret: graceSeconds > 0 ? { digest: before.secretDigest, validUntil } : null }, trx);
        await audit(trx, actor, 'service.secret_rotated', id, { graceSeconds, previousValidUntil: graceSeconds > 0 ? validUntil.toISOString() : null });
        return { ok: true, service: await reload(trx, id), secret };
      });
    },

    /** Disabled: refused at /auth and /token (the provider no longer finds it); enabled again: as before. */
    async setEnabled(id: string, enabled: boolean, actor: CatalogueActor): Promise<{ ok: true; changed: boolean } | Refusal> {
      return withService(id, async (trx, before) => {
        if ((before.disabledAt === null) === enabled) return { ok: true as const, changed: false };
        await repository.update(id, { disabledAt: enabled ? null : new Date() }, trx);
        await audit(trx, actor, enabled ? 'service.enabled' : 'service.disabled', id);
        return { ok: true as const, changed: true };
      });
    },

    async remove(id: string, actor: CatalogueActor): Promise<{ ok: true } | Refusal> {
      return withService(id, async (trx, before) => {
        await repository.remove(id, trx);
        await audit(trx, actor, 'service.removed', id, { name: before.name, origin: before.origin });
        return { ok: true as const };
      });
    },

    /**
     * RFC 7591: a partner's service, its settings already checked (services/registration.ts).
     * The initial access token loses one use in the same transaction: of a burst of requests
     * with a single-use token, one registers and the others change nothing.
     */
    async registerWithToken(input: { id: string; settings: ServiceSettings; secret: string | null; tokenDigest: string }): Promise<'registered' | 'token_spent' | 'taken'> {
      const taken = new Error('taken');
      try {
        return await deps.db.transaction().execute(async (trx) => {
          const tokenId = await tokens.spend(input.tokenDigest, trx);
          if (!tokenId) return 'token_spent' as const;
          const inserted = await repository.insert(
            { id: input.id, settings: input.settings, origin: 'registration', secretDigest: input.secret && secretDigest(input.secret), initialAccessTokenId: tokenId },
            trx,
          );
          // thrown, so that the use just taken is given back
          if (!inserted) throw taken;
          await audit(trx, { kind: 'service', via: 'registration' }, 'service.registered', input.id, { name: input.settings.name, initialAccessToken: tokenId });
          return 'registered' as const;
        });
      } catch (error) {
        if (error === taken) return 'taken';
        throw error;
      }
    },

    /** RFC 7592: a registered service changes its own settings; a secret it gets for the first time is stored as a digest. */
    async updateRegistered(id: string, settings: ServiceSettings, newSecret: string | null): Promise<Registered | Refusal> {
      return withService(id, async (trx, before): Promise<Registered> => {
        const confidential = settings.tokenEndpointAuthMethod !== 'none';
        await repository.update(
          id,
          { settings, ...(newSecret ? { secretDigest: secretDigest(newSecret) } : {}), ...(!confidential ? { secretDigest: null, previousSecret: null } : {}) },
          trx,
        );
        await audit(trx, { kind: 'service', via: 'registration' }, 'service.updated', id, { fields: changedFields(before.settings, settings), ...(newSecret ? { secret: 'issued' } : {}) });
        return { ok: true, service: await reload(trx, id), secret: newSecret };
      });
    },

    async setLogo(id: string, logo: { contentType: string; bytes: Uint8Array }, actor: CatalogueActor): Promise<{ ok: true; service: ServiceRecord } | Refusal> {
      return withService(id, async (trx, before) => {
        await repository.putLogo(id, logo, trx);
        const settings = { ...before.settings, logo: `/servizi/${id}/logo?v=${Date.now()}` };
        await repository.update(id, { settings }, trx);
        await audit(trx, actor, 'service.updated', id, { fields: ['logo'], bytes: logo.bytes.length });
        return { ok: true as const, service: await reload(trx, id) };
      });
    },

    /**
     * clients.json at start: a service it declares is created, or brought to what the file says
     * when the file's entry changed since it was last applied. A service the file did not change
     * keeps what the administration set since. Several instances starting at once apply it once.
     */
    async applyFile(definitions: ServiceDefinition[]): Promise<{ created: string[]; updated: string[] }> {
      const actor: CatalogueActor = { kind: 'system', via: 'file' };
      return deps.db.transaction().execute(async (trx) => {
        await sql`select pg_advisory_xact_lock(hashtext('iam:services:file'))`.execute(trx);
        const created: string[] = [];
        const updated: string[] = [];
        for (const definition of definitions) {
          const digest = definitionDigest(definition);
          const { settings, secret } = settingsOfDefinition(definition);
          const existing = await repository.find(definition.id, trx, { lock: true });
          if (existing?.fileDigest === digest) continue;
          const secretDigestValue = secret && secretDigest(secret);
          if (!existing) {
            await repository.insert({ id: definition.id, settings, origin: 'file', secretDigest: secretDigestValue, fileDigest: digest }, trx);
            await audit(trx, actor, 'service.registered', definition.id, { name: settings.name });
            created.push(definition.id);
          } else {
            await repository.update(definition.id, { settings, secretDigest: secretDigestValue, previousSecret: null, fileDigest: digest }, trx);
            await audit(trx, actor, 'service.updated', definition.id, { fields: changedFields(existing.settings, settings) });
            updated.push(definition.id);
          }
        }
        return { created, updated };
      });
    },
  };
}

export type ServiceAdministration = ReturnType<typeof createServiceAdministration>;
