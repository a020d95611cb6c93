import { randomBytes } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import { sql, type Transaction } from 'kysely';
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
      .execute();

    // every stored key is opened before anything is written: with the wrong KEK nothing
    // changes, and no new keys are generated over keys we merely failed to read
    const active = rows
      .filter((row) => row.retired_at === null)
      .map((row) => ({ ...row, secret: isSealedSecret(row.secret) ? open(kek, row.kid, row.use, row.secret) : row.secret }));
    for (const row of rows.filter((r) => !isSealedSecret(r.secret))) {
      await trx.updateTable('provider_keys').set({ secret: seal(kek, row.kid, row.secret) }).where('kid', '=', row.kid).execute();
    }

    const signing = new Map<string, JWK>();
    for (const row of active) if (row.use === 'signing' && row.alg && !signing.has(row.alg)) signing.set(row.alg, row.secret as JWK);
    for (const alg of SIGNING_ALGORITHMS) {
      if (signing.has(alg)) continue;
      const jwk = await generateSigningKey(alg);
      await insert(trx, kek, jwk.kid!, 'signing', alg, jwk);
      signing.set(alg, jwk);
    }

    const secretValues = (use: KeyUse) => active.filter((r) => r.use === use).map((r) => (r.secret as { value: string }).value);
    const cookieKeys = secretValues('cookie');
    if (cookieKeys.length === 0) cookieKeys.push(await createSecretValue(trx, kek, 'cookie'));
    const csrfKey = secretValues('csrf')[0] ?? (await createSecretValue(trx, kek, 'csrf'));

    return { jwks: { keys: SIGNING_ALGORITHMS.map((alg) => signing.get(alg)!) }, cookieKeys, csrfKey };
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
