import { sql, type Kysely } from 'kysely';

// The lockout ladder's second rung e-mails a self-unlock link (valid 3 days) that sets a new
// password: a recovery link with its own purpose and a longer life.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table recovery_tokens drop constraint recovery_tokens_purpose_check`.execute(db);
  await sql`alter table recovery_tokens add constraint recovery_tokens_purpose_check check (purpose in ('password_reset', 'unlock'))`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`delete from recovery_tokens where purpose = 'unlock'`.execute(db);
  await sql`alter table recovery_tokens drop constraint recovery_tokens_purpose_check`.execute(db);
  await sql`alter table recovery_tokens add constraint recovery_tokens_purpose_check check (purpose in ('password_reset'))`.execute(db);
}
