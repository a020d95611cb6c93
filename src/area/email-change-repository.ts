import type { Db } from '../db/index.js';

/** A personal e-mail change waiting for its code: one per account (table email_changes). */
export interface PendingChangeRow {
  newEmail: string;
  codeHash: string;
  tries: number;
  sentAt: Date;
  expiresAt: Date;
}

export function createEmailChangeRepository(db: Db) {
  return {
    async find(accountId: string): Promise<PendingChangeRow | undefined> {
      const row = await db.selectFrom('email_changes').selectAll().where('account_id', '=', accountId).executeTakeFirst();
      return row && { newEmail: row.new_email, codeHash: row.code_hash, tries: row.tries, sentAt: row.sent_at, expiresAt: row.expires_at };
    },

    /** A new code replaces the one pending, its tries counted from zero. */
    async replace(accountId: string, change: Omit<PendingChangeRow, 'tries'>): Promise<void> {
      const row = { new_email: change.newEmail, code_hash: change.codeHash, tries: 0, sent_at: change.sentAt, expires_at: change.expiresAt };
      await db.insertInto('email_changes').values({ account_id: accountId, ...row })
        .onConflict((oc) => oc.column('account_id').doUpdateSet(row)).execute();
    },

    /** One try taken in one statement, unless spent or expired: then undefined. */
    async takeTry(accountId: string, maxTries: number, now: Date): Promise<Pick<PendingChangeRow, 'codeHash' | 'newEmail' | 'tries'> | undefined> {
      const row = await db.updateTable('email_changes').set((eb) => ({ tries: eb('tries', '+', 1) }))
        .where('account_id', '=', accountId).where('tries', '<', maxTries).where('expires_at', '>', now)
        .returning(['code_hash', 'new_email', 'tries']).executeTakeFirst();
      return row && { codeHash: row.code_hash, newEmail: row.new_email, tries: row.tries };
    },

    /** Removes the change whose code was matched; undefined when another request took it first. */
    async take(accountId: string, codeHash: string): Promise<string | undefined> {
      const row = await db.deleteFrom('email_changes').where('account_id', '=', accountId).where('code_hash', '=', codeHash)
        .returning(['new_email']).executeTakeFirst();
      return row?.new_email;
    },
  };
}
