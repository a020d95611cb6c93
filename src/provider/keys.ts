import { randomBytes } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import { sql } from 'kysely';
import type { Db } from '../db/index.js';

export interface ProviderKeys {
  /** Private signing keys, RS256 first (the default ID token algorithm), then ES256. */
  jwks: { keys: JWK[] };
  /** Cookie signing secrets, newest first (oidc-provider signs with the first, verifies with all). */
  cookieKeys: string[];
}

const SIGNING_ALGORITHMS = ['RS256', 'ES256'] as const;

/**
 * Loads the persisted keys, generating what is missing on the first start. An
 * advisory lock makes concurrent first starts of several instances agree on one set.
 */
export async function loadOrCreateKeys(db: Db): Promise<ProviderKeys> {
  return db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(hashtext('iam:provider_keys'))`.execute(trx);
    const rows = await trx
      .selectFrom('provider_keys')
      .select(['kid', 'use', 'alg', 'secret'])
      .where('retired_at', 'is', null)
      .orderBy('created_at', 'desc')
      .execute();

    const signing = new Map(rows.filter((r) => r.use === 'signing').map((r) => [r.alg, r.secret as JWK]));
    for (const alg of SIGNING_ALGORITHMS) {
      if (signing.has(alg)) continue;
      const jwk = await generateSigningKey(alg);
      await trx.insertInto('provider_keys').values({ kid: jwk.kid!, use: 'signing', alg, secret: JSON.stringify(jwk) }).execute();
      signing.set(alg, jwk);
    }

    const cookieKeys = rows.filter((r) => r.use === 'cookie').map((r) => (r.secret as { value: string }).value);
    if (cookieKeys.length === 0) {
      const value = randomBytes(32).toString('base64url');
      const kid = 'cookie-' + randomBytes(8).toString('hex');
      await trx.insertInto('provider_keys').values({ kid, use: 'cookie', alg: null, secret: JSON.stringify({ value }) }).execute();
      cookieKeys.push(value);
    }

    return { jwks: { keys: SIGNING_ALGORITHMS.map((alg) => signing.get(alg)!) }, cookieKeys };
  });
}

async function generateSigningKey(alg: (typeof SIGNING_ALGORITHMS)[number]): Promise<JWK> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'RS256' ? { modulusLength: 2048 } : {}) });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, kid: await calculateJwkThumbprint(jwk), alg, use: 'sig' };
}
