import { sql, type Kysely } from 'kysely';

// Service enablement (abilitazione, DOMAIN.md §7): one request per account and service, its
// state (src/enablement/states.ts), the identity document declared, the temporary personal
// code (only its hash, with its expiry and wrong tries), who identified the person where, and
// the personal code the person set (argon2id). A revoked request is kept for the record; a
// new one may then start, so only live requests are unique per account and service.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create sequence enablement_numbers`.execute(db);
  await sql`
    create table enablements (
      id uuid primary key default gen_random_uuid(),
      number text not null unique,
      account_id uuid not null references accounts (id) on delete cascade,
      service_id text not null,
      state text not null check (state in ('code_sent', 'awaiting_identification', 'identified', 'enabled', 'recovering', 'revoked')),
      document jsonb not null,
      temporary_code_hash text,
      temporary_code_expires_at timestamptz,
      temporary_code_tries integer not null default 0,
      identified_at timestamptz,
      identified_by uuid references accounts (id) on delete set null,
      identified_where text,
      personal_code_hash text,
      personal_code_set_at timestamptz,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`.execute(db);
  await sql`create unique index enablements_live on enablements (account_id, service_id) where state <> 'revoked'`.execute(db);
  await sql`create index enablements_awaiting on enablements (account_id) where state = 'awaiting_identification'`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table enablements`.execute(db);
  await sql`drop sequence enablement_numbers`.execute(db);
}
