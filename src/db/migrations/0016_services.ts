import { sql, type Kysely } from 'kysely';

// The catalogue of client services (DOMAIN.md §9): what clients.json declares and what
// administrators register. `settings` holds the validated metadata (src/services/catalogue.ts
// is its schema); the secret is kept only as a SHA-256 digest (a 256-bit random secret needs
// no slow hash, RFC 6819 §5.1.4.1.3), the previous one beside it until its grace period ends.
// `file_digest` is the digest of the clients.json entry last applied: the file overrides a
// console change only when its own entry changed since.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table services (
      id text primary key,
      name text not null,
      settings jsonb not null,
      origin text not null check (origin in ('file', 'console', 'cli', 'api', 'registration')),
      secret_digest text,
      previous_secret_digest text,
      previous_secret_valid_until timestamptz,
      file_digest text,
      disabled_at timestamptz,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      check ((previous_secret_digest is null) = (previous_secret_valid_until is null))
    )`.execute(db);
  // a logo uploaded in the console: a small image served from the provider's own origin
  await sql`
    create table service_logos (
      service_id text primary key references services (id) on delete cascade,
      content_type text not null,
      bytes bytea not null,
      updated_at timestamptz not null default now()
    )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table service_logos`.execute(db);
  await sql`drop table services`.execute(db);
}
