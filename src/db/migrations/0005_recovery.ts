import { sql, type Kysely } from 'kysely';

// Password dimenticata? (DOMAIN.md §6): single-use links sent to the reference e-mail. Only
// the SHA-256 of a link's token is kept, so a copy of the table opens nothing. A link is
// spent once (used_at, set by one atomic UPDATE), or retired when the password changes by
// another way (retired_at); rows outlive their expiry a little so that an old link still
// gets the right page ("already used" rather than "unknown").
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table recovery_tokens (
      id uuid primary key default gen_random_uuid(),
      account_id uuid not null references accounts(id) on delete cascade,
      purpose text not null check (purpose in ('password_reset')),
      token_hash char(64) not null unique check (token_hash ~ '^[0-9a-f]{64}$'),
      created_at timestamptz not null default now(),
      expires_at timestamptz not null,
      used_at timestamptz,
      retired_at timestamptz,
      check (expires_at > created_at)
    )`.execute(db);
  await sql`create index recovery_tokens_account on recovery_tokens (account_id, created_at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table recovery_tokens`.execute(db);
}
