import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../db/index.js';

/** 256 random bits, base64url: the secret in the link. Only its hash is ever stored. */
export function newRecoveryToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashRecoveryToken(token) };
}

export function hashRecoveryToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** What the token in a link looks like; anything else is not worth a lookup. */
export const RECOVERY_TOKEN_PATTERN = /^[\w-]{43}$/;

export interface RecoveryTokenRecord {
  id: string;
  accountId: string;
  createdAt: Date;
  expiresAt: Date;
  usedAt: Date | null;
  retiredAt: Date | null;
}

export type RecoveryTokenRepository = ReturnType<typeof createRecoveryTokenRepository>;

export function createRecoveryTokenRepository(db: Db) {
  return {
    async insert(row: { accountId: string; hash: string; createdAt: Date; expiresAt: Date; purpose?: 'password_reset' | 'unlock' }): Promise<string> {
      const { id } = await db
        .insertInto('recovery_tokens')
        .values({ account_id: row.accountId, purpose: row.purpose ?? 'password_reset', token_hash: row.hash, created_at: row.createdAt, expires_at: row.expiresAt })
        .returning('id')
        .executeTakeFirstOrThrow();
      return id;
    },

    async findByHash(hash: string): Promise<RecoveryTokenRecord | undefined> {
      const row = await db
        .selectFrom('recovery_tokens')
        .select(['id', 'account_id', 'created_at', 'expires_at', 'used_at', 'retired_at'])
        .where('token_hash', '=', hash)
        .executeTakeFirst();
      return row && { id: row.id, accountId: row.account_id, createdAt: row.created_at, expiresAt: row.expires_at, usedAt: row.used_at, retiredAt: row.retired_at };
    },

    /**
     * Spends the link: one UPDATE whose WHERE re-reads the row under its lock, so of two
     * concurrent claims exactly one gets the row back. Call in the transaction that uses it.
     */
    async claim(id: string, accountId: string, now: Date): Promise<boolean> {
      const claimed = await db
        .updateTable('recovery_tokens')
        .set({ used_at: now })
        .where('id', '=', id)
        .where('account_id', '=', accountId)
        .where('used_at', 'is', null)
        .where('retired_at', 'is', null)
        .where('expires_at', '>', now)
        .executeTakeFirst();
      return Number(claimed.numUpdatedRows) === 1;
    },

    /** Rows long past their expiry: kept a while only to tell "used" from "unknown". */
    async deleteExpiredBefore(accountId: string, before: Date): Promise<void> {
      await db.deleteFrom('recovery_tokens').where('account_id', '=', accountId).where('expires_at', '<', before).execute();
    },
  };
}
