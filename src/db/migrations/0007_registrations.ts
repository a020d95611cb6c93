import { sql, type Kysely } from 'kysely';

// Self-registration (DOMAIN.md §3): an attempt in progress, kept server-side until it
// completes or expires (24 hours). The browser holds a random id in an httpOnly cookie; only
// its SHA-256 is the key here. The e-mail code is stored hashed, with its expiry, the time it
// was sent (one new code a minute) and the wrong tries (five at most).
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table registrations (
      id char(64) primary key check (id ~ '^[0-9a-f]{64}$'),
      step text not null,
      data jsonb not null default '{}'::jsonb,
      return_uid text,
      code_hash char(64),
      code_expires_at timestamptz,
      code_sent_at timestamptz,
      code_tries integer not null default 0,
      account_id uuid references accounts(id) on delete cascade,
      created_at timestamptz not null default now(),
      expires_at timestamptz not null,
      check (expires_at > created_at)
    )`.execute(db);
  await sql`create index registrations_expires on registrations (expires_at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table registrations`.execute(db);
}
