import { sql, type Kysely } from 'kysely';

// Inactivity (AgID Regolamento art. 20, DOMAIN.md §4). `last_active_at` is the last sign-in
// (or the new password that brought the account back); it starts from the last sign-in the
// audit log recorded, else from the account's creation. `inactivity_deadline` is set by the
// inactivity job when the first notice goes out, and cleared by the next sign-in: the account
// becomes dormant on it, never before its notices have been sent. `dormant_since` is when it
// last became dormant (kept after it comes back): the job counts the day's dormancies by it.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table accounts add column last_active_at timestamptz not null default now()`.execute(db);
  await sql`alter table accounts add column inactivity_deadline timestamptz`.execute(db);
  await sql`alter table accounts add column dormant_since timestamptz`.execute(db);
  await sql`
    update accounts set last_active_at = coalesce(
      (select max(a.occurred_at) from audit_log a
        where a.subject_id = accounts.id and a.action = 'login.password' and a.outcome = 'success'),
      accounts.created_at)`.execute(db);
  await sql`alter table accounts drop constraint accounts_status_check`.execute(db);
  await sql`alter table accounts add constraint accounts_status_check check (status in ('active', 'suspended', 'dormant'))`.execute(db);
  await sql`alter table account_notices drop constraint account_notices_kind_check`.execute(db);
  await sql`alter table account_notices add constraint account_notices_kind_check check (kind in ('password_expiry', 'inactivity'))`.execute(db);
  await sql`create index accounts_last_active_at on accounts (last_active_at) where status = 'active' and inactivity_deadline is null`.execute(db);
  await sql`create index accounts_inactivity_deadline on accounts (inactivity_deadline) where status = 'active' and inactivity_deadline is not null`.execute(db);
  await sql`create index accounts_dormant_since on accounts (dormant_since) where dormant_since is not null`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index accounts_dormant_since`.execute(db);
  await sql`drop index accounts_inactivity_deadline`.execute(db);
  await sql`drop index accounts_last_active_at`.execute(db);
  await sql`update accounts set status = 'active' where status = 'dormant'`.execute(db);
  await sql`alter table account_notices drop constraint account_notices_kind_check`.execute(db);
  await sql`delete from account_notices where kind = 'inactivity'`.execute(db);
  await sql`alter table account_notices add constraint account_notices_kind_check check (kind in ('password_expiry'))`.execute(db);
  await sql`alter table accounts drop constraint accounts_status_check`.execute(db);
  await sql`alter table accounts add constraint accounts_status_check check (status in ('active', 'suspended'))`.execute(db);
  await sql`alter table accounts drop column dormant_since`.execute(db);
  await sql`alter table accounts drop column inactivity_deadline`.execute(db);
  await sql`alter table accounts drop column last_active_at`.execute(db);
}
