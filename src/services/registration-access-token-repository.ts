import type { Db } from '../db/index.js';

/** The registration_access_tokens table (RFC 7592): a token lives as long as the service it manages. */
export function createRegistrationAccessTokenRepository(db: Db) {
  return {
    async insert(digest: string, serviceId: string, payload: Record<string, unknown>): Promise<void> {
      await db.insertInto('registration_access_tokens').values({ token_digest: digest, service_id: serviceId, payload: JSON.stringify(payload) }).execute();
    },

    async find(digest: string): Promise<Record<string, unknown> | undefined> {
      const row = await db.selectFrom('registration_access_tokens').select('payload').where('token_digest', '=', digest).executeTakeFirst();
      return row && ((typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload) as Record<string, unknown>);
    },

    /**
     * Removes a token, unless its service is only disabled: the provider drops a token whose
     * service it cannot find, and a service enabled again must still be manageable.
     */
    async remove(digest: string): Promise<void> {
      await db
        .deleteFrom('registration_access_tokens')
        .where('token_digest', '=', digest)
        .where(({ not, exists, selectFrom }) =>
          not(exists(selectFrom('services').select('id').whereRef('services.id', '=', 'registration_access_tokens.service_id').where('services.disabled_at', 'is not', null))))
        .execute();
    },
  };
}

export type RegistrationAccessTokenRepository = ReturnType<typeof createRegistrationAccessTokenRepository>;
