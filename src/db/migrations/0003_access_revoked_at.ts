import { sql, type Kysely } from 'kysely';

// When the account's sessions were last ended from the outside (suspension today; password
// reset and "sign out everywhere" later): an SSO session signed in before it is worthless,
// even one saved again by a request that was under way during the revocation.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table accounts add column access_revoked_at timestamptz`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table accounts drop column access_revoked_at`.execute(db);
}
