import { sql, type Kysely } from 'kysely';

// What the password_change gate needs beside expiry and the temporary flag: whether the
// password typed at the last sign-in failed the current policy (so a stricter policy takes
// effect without a reset), and when a temporary password was used (it works once).
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table accounts add column password_noncompliant boolean not null default false`.execute(db);
  await sql`alter table accounts add column temporary_password_used_at timestamptz`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table accounts drop column temporary_password_used_at`.execute(db);
  await sql`alter table accounts drop column password_noncompliant`.execute(db);
}
