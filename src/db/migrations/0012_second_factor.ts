import { sql, type Kysely } from 'kysely';

// Two factors (TOTP, RFC 6238): an account's secret, sealed with the key-encryption key, and
// the last time step accepted (a code is never taken twice); ten single-use recovery codes,
// only their SHA-256 kept. A row without confirmed_at is an enrolment not yet confirmed.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table second_factors (
      account_id uuid primary key references accounts (id) on delete cascade,
      secret jsonb not null,
      confirmed_at timestamptz,
      last_step bigint,
      created_at timestamptz not null default now()
    )`.execute(db);
  await sql`
    create table recovery_codes (
      account_id uuid not null references accounts (id) on delete cascade,
      code_hash text not null,
      used_at timestamptz,
      primary key (account_id, code_hash)
    )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table recovery_codes`.execute(db);
  await sql`drop table second_factors`.execute(db);
}
