import { randomBytes } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import { sql, type Transaction } from 'kysely';
import { apiClientDetail, type AuditLog } from '../audit/audit-log.js';
import type { Db } from '../db/index.js';
import type { Database, ProviderKeysTable } from '../db/schema.js';
import { isSealedSecret, KeyEncryptionError, openSecret, sealSecret, type KeysEncryptionKey, type SealedSecret } from './key-encryption.js';

export interface ProviderKeys {
  /** Private signing keys, RS256 first (the default ID token algorithm), then ES256. */
  jwks: { keys: JWK[] };
  /** Cookie signing secrets, newest first (oidc-provider signs with the first, verifies with all). */
  cookieKeys: string[];
  /** Signs our forms' CSRF tokens: a key of its own, so neither secret can stand in for the other. */
  csrfKey: string;
}

type KeyUse = ProviderKeysTable['use'];

const SIGNING_ALGORITHMS = ['RS256', 'ES256'] as const;

/**
 * Loads the persisted keys, generating what is missing on the first start. Every secret is
 * stored encrypted with the key-encryption key; rows an earlier version wrote in clear are
 * encrypted in place. An advisory lock makes concurrent starts of several instances agree
 * on one set.
 */
export async function loadOrCreateKeys(db: Db, kek: KeysEncryptionKey): Promise<ProviderKeys> {
  return db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(hashtext('iam:provider_keys'))`.execute(trx);
    const rows = await trx
      .selectFrom('provider_keys')
      .select(['kid', 'use', 'alg', 'secret', 'retired_at'])
      .orderBy('created_at', 'desc')
      .orderBy('kid')
      .execute();

    // every stored key is opened before anything is written: with the wrong KEK nothing
    // changes, and no new keys are generated over keys we merely failed to read
    const active = rows
      .filter((row) => row.retired_at === null || row.retired_at > new Date())
      .map((row) => ({ ...row, secret: isSealedSecret(row.secret) ? open(kek, row.kid, row.use, row.secret) : row.secret }));
    for (const row of rows.filter((r) => !isSealedSecret(r.secret))) {
      await trx.updateTable('provider_keys').set({ secret: seal(kek, row.kid, row.secret) }).where('kid', '=', row.kid).execute();
    }

    // rows come newest first: the first unretired key of an algorithm signs; keys past their
    // rotation stay published (verify only) until their retired_at
    const live = active;
    const signing = new Map<string, JWK>();
    const verifyOnly: JWK[] = [];
    for (const row of live.filter((r) => r.use === 'signing' && r.alg)) {
      if (row.retired_at === null && !signing.has(row.alg!)) signing.set(row.alg!, row.secret as JWK);
      else if (row.retired_at !== null) verifyOnly.push({ ...(row.secret as JWK), key_ops: ['verify'] });
    }
    for (const alg of SIGNING_ALGORITHMS) {
      if (signing.has(alg)) continue;
      const jwk = await generateSigningKey(alg);
      await insert(trx, kek, jwk.kid!, 'signing', alg, jwk);
      signing.set(alg, jwk);
    }

    // cookies: signed with the newest, verified with every key not yet retired
    const secretValues = (use: KeyUse) => live.filter((r) => r.use === use).map((r) => (r.secret as { value: string }).value);
    const cookieKeys = secretValues('cookie');
    if (!live.some((r) => r.use === 'cookie' && r.retired_at === null)) cookieKeys.unshift(await createSecretValue(trx, kek, 'cookie'));
    const csrfKey = secretValues('csrf')[0] ?? (await createSecretValue(trx, kek, 'csrf'));

    return { jwks: { keys: [...SIGNING_ALGORITHMS.map((alg) => signing.get(alg)!), ...verifyOnly] }, cookieKeys, csrfKey };
  });
}

function open(kek: KeysEncryptionKey, kid: string, use: KeyUse, sealed: SealedSecret): Record<string, unknown> {
  try {
    return openSecret(kek.key, kid, sealed) as Record<string, unknown>;
  } catch (error) {
    throw new KeyEncryptionError(
      `the stored keys cannot be decrypted with ${kek.source}: key ${kid} (${use}): ${(error as Error).message}. Start with the key they were encrypted with; nothing was changed.`,
    );
  }
}

function seal(kek: KeysEncryptionKey, kid: string, secret: unknown): string {
  return JSON.stringify(sealSecret(kek.key, kid, secret));
}

async function insert(trx: Transaction<Database>, kek: KeysEncryptionKey, kid: string, use: KeyUse, alg: string | null, secret: unknown) {
  await trx.insertInto('provider_keys').values({ kid, use, alg, secret: seal(kek, kid, secret) }).execute();
}

/** A random 256-bit secret for HMACs (cookies, CSRF tokens), stored as { value }. */
async function createSecretValue(trx: Transaction<Database>, kek: KeysEncryptionKey, use: 'cookie' | 'csrf'): Promise<string> {
  const value = randomBytes(32).toString('base64url');
  await insert(trx, kek, `${use}-${randomBytes(8).toString('hex')}`, use, null, { value });
  return value;
}

async function generateSigningKey(alg: (typeof SIGNING_ALGORITHMS)[number]): Promise<JWK> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'RS256' ? { modulusLength: 2048 } : {}) });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, kid: await calculateJwkThumbprint(jwk), alg, use: 'sig' };
}

/** Bounds of the overlap during which a rotated key still verifies (and its cookies still count). */
export const KEY_OVERLAP = { min: 60 * 60, default: 24 * 60 * 60, max: 90 * 24 * 60 * 60 } as const;

export type KeyState = 'active' | 'retiring' | 'retired';

export interface KeyListing {
  kid: string;
  use: KeyUse;
  alg: string | null;
  state: KeyState;
  createdAt: Date;
  retiredAt: Date | null;
}

export interface KeyActor {
  kind: 'admin' | 'system' | 'service';
  id?: string;
  via: 'cli' | 'api';
  /** the admin API client acting */
  client?: string;
}

/**
 * Key rotation. A rotation makes new signing keys (one per algorithm) and a new cookie key
 * active; the keys they replace stay published for verification until now + overlap, then
 * retire. Each instance loads its keys at start: rotate, then restart the instances one after
 * the other within the overlap (what an instance signed before its restart still verifies).
 */
export function createKeyAdministration(deps: { db: Db; kek: KeysEncryptionKey; audit: AuditLog }) {
  const stateOf = (retiredAt: Date | null, now: Date): KeyState => (retiredAt === null ? 'active' : retiredAt > now ? 'retiring' : 'retired');

  return {
    async list(): Promise<KeyListing[]> {
      const now = new Date();
      const rows = await deps.db.selectFrom('provider_keys').select(['kid', 'use', 'alg', 'created_at', 'retired_at']).orderBy('created_at', 'desc').orderBy('kid').execute();
      return rows.map((r) => ({ kid: r.kid, use: r.use, alg: r.alg, state: stateOf(r.retired_at, now), createdAt: r.created_at, retiredAt: r.retired_at }));
    },

    async rotate(overlapSeconds: number, actor: KeyActor): Promise<{ ok: true; created: string[]; retiring: string[]; until: Date } | { ok: false; reason: 'invalid_overlap' }> {
      if (!Number.isInteger(overlapSeconds) || overlapSeconds < KEY_OVERLAP.min || overlapSeconds > KEY_OVERLAP.max) return { ok: false, reason: 'invalid_overlap' };
      const generated = await Promise.all(SIGNING_ALGORITHMS.map(generateSigningKey));
      return deps.db.transaction().execute(async (trx) => {
        await sql`select pg_advisory_xact_lock(hashtext('iam:provider_keys'))`.execute(trx);
        const until = new Date(Date.now() + overlapSeconds * 1000);
        const replaced = await trx
          .updateTable('provider_keys')
          .set({ retired_at: until })
          .where('retired_at', 'is', null)
          .where('use', 'in', ['signing', 'cookie'])
          .returning('kid')
          .execute();
        const created: string[] = [];
        for (const jwk of generated) {
          await insert(trx, deps.kek, jwk.kid!, 'signing', jwk.alg!, jwk);
          created.push(jwk.kid!);
        }
        await createSecretValue(trx, deps.kek, 'cookie');
        const retiring = replaced.map((r) => r.kid);
        await deps.audit.record({ actorKind: actor.kind, actorId: actor.id ?? null, action: 'keys.rotated', outcome: 'success', details: { via: actor.via, ...apiClientDetail(actor), created, retiring, until: until.toISOString() } }, trx);
        return { ok: true as const, created, retiring, until };
      });
    },

    /** Ends a rotated key's overlap now (the active keys are retired only by a rotation). */
    async retire(kid: string, actor: KeyActor): Promise<'retired' | 'not_found' | 'active' | 'already'> {
      return deps.db.transaction().execute(async (trx) => {
        await sql`select pg_advisory_xact_lock(hashtext('iam:provider_keys'))`.execute(trx);
        const row = await trx.selectFrom('provider_keys').select(['kid', 'retired_at', 'use']).where('kid', '=', kid).where('use', 'in', ['signing', 'cookie']).executeTakeFirst();
        if (!row) return 'not_found';
        const now = new Date();
        if (row.retired_at === null) return 'active';
        if (row.retired_at <= now) return 'already';
        await trx.updateTable('provider_keys').set({ retired_at: now }).where('kid', '=', kid).execute();
        await deps.audit.record({ actorKind: actor.kind, actorId: actor.id ?? null, action: 'keys.retired', outcome: 'success', details: { via: actor.via, ...apiClientDetail(actor), kid } }, trx);
        return 'retired';
      });
    },
  };
}

export type KeyAdministration = ReturnType<typeof createKeyAdministration>;
