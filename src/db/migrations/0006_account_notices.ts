import { sql, type Kysely } from 'kysely';

// Notices sent to an account about a coming deadline (password expiry; inactivity later),
// one row per notice: the primary key is what makes each one go out once, whichever
// instance of the provider runs the job.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table account_notices (
      account_id uuid not null references accounts(id) on delete cascade,
      kind text not null check (kind in ('password_expiry')),
      due_at timestamptz not null,
      days_before integer not null check (days_before > 0),
      sent_at timestamptz not null default now(),
      primary key (account_id, kind, due_at, days_before)
    )`.execute(db);
  await sql`create index accounts_password_expires_at on accounts (password_expires_at) where status = 'active'`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index accounts_password_expires_at`.execute(db);
  await sql`drop table account_notices`.execute(db);
}
