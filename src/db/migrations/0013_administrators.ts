import { sql, type Kysely } from 'kysely';

// Administrators (DOMAIN.md §2): the accounts that may open /admin (with two factors) — who
// granted the role and when. The audit viewer filters by actor and reads newest first.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table administrators (
      account_id uuid primary key references accounts (id) on delete cascade,
      granted_at timestamptz not null default now(),
      granted_by uuid references accounts (id) on delete set null
    )`.execute(db);
  await sql`create index audit_log_actor on audit_log (actor_id, occurred_at)`.execute(db);
  await sql`create index audit_log_occurred on audit_log (occurred_at, id)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index audit_log_occurred`.execute(db);
  await sql`drop index audit_log_actor`.execute(db);
  await sql`drop table administrators`.execute(db);
}
