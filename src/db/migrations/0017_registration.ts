import { sql, type Kysely } from 'kysely';

// Dynamic registration (RFC 7591/7592, DOMAIN.md §9). An initial access token is handed by an
// administrator to a partner: single-use or with a use limit, expiring, revocable; only its
// SHA-256 digest is kept (256 random bits). A registration access token lives as long as the
// service it manages. A registered service or an admin API client acts as 'service' in the audit log.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table initial_access_tokens (
      id text primary key,
      token_digest text not null unique,
      label text not null,
      max_uses integer not null check (max_uses between 1 and 1000),
      uses integer not null default 0 check (uses >= 0 and uses <= max_uses),
      expires_at timestamptz not null,
      revoked_at timestamptz,
      created_by text,
      created_at timestamptz not null default now()
    )`.execute(db);
  await sql`
    create table registration_access_tokens (
      token_digest text primary key,
      service_id text not null references services (id) on delete cascade,
      payload jsonb not null,
      created_at timestamptz not null default now()
    )`.execute(db);
  await sql`create index registration_access_tokens_service on registration_access_tokens (service_id)`.execute(db);
  await sql`alter table services add column initial_access_token_id text references initial_access_tokens (id) on delete set null`.execute(db);
  await sql`
    do $$
    declare name text;
    begin
      select conname into name from pg_constraint
       where conrelid = 'audit_log'::regclass and contype = 'c' and pg_get_constraintdef(oid) like '%actor_kind%';
      execute format('alter table audit_log drop constraint %I', name);
    end $$`.execute(db);
  await sql`alter table audit_log add constraint audit_log_actor_kind_check check (actor_kind in ('user', 'officer', 'admin', 'system', 'anonymous', 'service'))`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table audit_log drop constraint audit_log_actor_kind_check`.execute(db);
  await sql`alter table audit_log add constraint audit_log_actor_kind_check check (actor_kind in ('user', 'officer', 'admin', 'system', 'anonymous'))`.execute(db);
  await sql`alter table services drop column initial_access_token_id`.execute(db);
  await sql`drop table registration_access_tokens`.execute(db);
  await sql`drop table initial_access_tokens`.execute(db);
}
