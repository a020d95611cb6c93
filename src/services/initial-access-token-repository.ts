import type { Selectable } from 'kysely';
import type { Db } from '../db/index.js';
import type { InitialAccessTokensTable } from '../db/schema.js';

export type InitialAccessTokenState = 'active' | 'spent' | 'expired' | 'revoked';

/** An initial access token as the administration lists it (never its value). */
export interface InitialAccessTokenRecord {
  id: string;
  label: string;
  maxUses: number;
  uses: number;
  expiresAt: Date;
  revokedAt: Date | null;
  createdBy: string | null;
  createdAt: Date;
  state: InitialAccessTokenState;
}

function toRecord(row: Selectable<InitialAccessTokensTable>, now = new Date()): InitialAccessTokenRecord {
  const state: InitialAccessTokenState = row.revoked_at ? 'revoked' : row.uses >= row.max_uses ? 'spent' : row.expires_at <= now ? 'expired' : 'active';
  return {
    id: row.id,
    label: row.label,
    maxUses: row.max_uses,
    uses: row.uses,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    createdBy: row.created_by,
    createdAt: row.created_at,
    state,
  };
}

/** The initial_access_tokens table: the only SQL of the tokens that open dynamic registration. */
export function createInitialAccessTokenRepository(db: Db) {
  return {
    async insert(token: { id: string; digest: string; label: string; maxUses: number; expiresAt: Date; createdBy: string | null }, executor: Db = db) {
      const row = await executor
        .insertInto('initial_access_tokens')
        .values({ id: token.id, token_digest: token.digest, label: token.label, max_uses: token.maxUses, expires_at: token.expiresAt, revoked_at: null, created_by: token.createdBy })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toRecord(row);
    },

    async list(): Promise<InitialAccessTokenRecord[]> {
      return (await db.selectFrom('initial_access_tokens').selectAll().orderBy('created_at', 'desc').orderBy('id').execute()).map((r) => toRecord(r));
    },

    async find(id: string, executor: Db = db): Promise<InitialAccessTokenRecord | undefined> {
      const row = await executor.selectFrom('initial_access_tokens').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toRecord(row);
    },

    /** The token behind a digest while it can still register a service. */
    async usable(digest: string): Promise<InitialAccessTokenRecord | undefined> {
      const row = await db
        .selectFrom('initial_access_tokens')
        .selectAll()
        .where('token_digest', '=', digest)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', new Date())
        .whereRef('uses', '<', 'max_uses')
        .executeTakeFirst();
      return row && toRecord(row);
    },

    /** Takes one use in a single statement, so a burst of registrations cannot overspend it; the id when it was usable. */
    async spend(digest: string, executor: Db = db): Promise<string | undefined> {
      const row = await executor
        .updateTable('initial_access_tokens')
        .set((eb) => ({ uses: eb('uses', '+', 1) }))
        .where('token_digest', '=', digest)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', new Date())
        .whereRef('uses', '<', 'max_uses')
        .returning('id')
        .executeTakeFirst();
      return row?.id;
    },

    async revoke(id: string, executor: Db = db): Promise<boolean> {
      const row = await executor
        .updateTable('initial_access_tokens')
        .set({ revoked_at: new Date() })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .returning('id')
        .executeTakeFirst();
      return row !== undefined;
    },
  };
}

export type InitialAccessTokenRepository = ReturnType<typeof createInitialAccessTokenRepository>;
