import { sql, type Kysely } from 'kysely';

// The audit log, partitioned by month (issue 13): 24 months of sign-ins stay cheap to write,
// read and retire (a month goes with one DDL statement, not millions of deletes). One
// partition per month, created ahead by the audit-partitions job through
// audit_log_ensure_partition(); a default partition only catches a clock gone astray.
// A retired month leaves, per chain, where the remaining entries start (audit_chain_starts),
// so verification starts there. TRUNCATE triggers are not inherited by partitions: the
// function gives each one its own.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table audit_log rename to audit_log_unpartitioned`.execute(db);
  await sql`
    create table audit_log (
      id bigint not null default nextval('audit_log_id_seq'),
      occurred_at timestamptz not null default now(),
      actor_kind text not null check (actor_kind in ('user', 'officer', 'admin', 'system', 'anonymous')),
      actor_id uuid,
      subject_id uuid,
      action text not null,
      outcome text not null check (outcome in ('success', 'failure', 'refused')),
      ip text,
      user_agent text,
      client_id text,
      details jsonb not null default '{}'::jsonb,
      chain smallint not null,
      seq bigint not null,
      prev_hash text not null,
      hash text not null,
      constraint audit_log_partitioned_pkey primary key (id, occurred_at)
    ) partition by range (occurred_at)`.execute(db);
  await sql`alter sequence audit_log_id_seq owned by audit_log.id`.execute(db);
  await sql`
    create function audit_log_ensure_partition(month date) returns text language plpgsql as $$
    declare
      first date := date_trunc('month', month)::date;
      name text := format('audit_log_y%sm%s', to_char(first, 'YYYY'), to_char(first, 'MM'));
    begin
      if to_regclass(name) is null then
        execute format('create table %I partition of audit_log for values from (%L) to (%L)', name, first, (first + interval '1 month')::date);
        execute format('create trigger audit_log_no_truncate before truncate on %I for each statement execute function audit_log_is_append_only()', name);
      end if;
      return name;
    end $$`.execute(db);
  await sql`create table audit_log_default partition of audit_log default`.execute(db);
  await sql`create trigger audit_log_no_truncate before truncate on audit_log_default for each statement execute function audit_log_is_append_only()`.execute(db);
  // every month the existing entries cover, and this month and the next three
  await sql`
    select audit_log_ensure_partition(m::date) from generate_series(
      date_trunc('month', least(coalesce((select min(occurred_at) from audit_log_unpartitioned), now()), now())),
      date_trunc('month', now()) + interval '3 months', interval '1 month') as m`.execute(db);
  await sql`insert into audit_log select id, occurred_at, actor_kind, actor_id, subject_id, action, outcome, ip, user_agent, client_id, details, chain, seq, prev_hash, hash from audit_log_unpartitioned`.execute(db);
  await sql`drop table audit_log_unpartitioned`.execute(db);

  await sql`create trigger audit_log_append_only before update or delete on audit_log for each row execute function audit_log_is_append_only()`.execute(db);
  await sql`create trigger audit_log_no_truncate before truncate on audit_log for each statement execute function audit_log_is_append_only()`.execute(db);
  await sql`create index audit_log_subject on audit_log (subject_id, occurred_at)`.execute(db);
  await sql`create unique index audit_log_chain_seq on audit_log (chain, seq, occurred_at)`.execute(db);
  await sql`create table audit_chain_starts (chain smallint primary key, seq bigint not null, hash text not null)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table audit_log rename to audit_log_partitioned`.execute(db);
  await sql`create table audit_log (like audit_log_partitioned including defaults)`.execute(db);
  await sql`alter table audit_log add primary key (id)`.execute(db);
  await sql`insert into audit_log select * from audit_log_partitioned`.execute(db);
  await sql`alter sequence audit_log_id_seq owned by audit_log.id`.execute(db);
  await sql`drop table audit_log_partitioned`.execute(db);
  await sql`drop function audit_log_ensure_partition(date)`.execute(db);
  await sql`drop table audit_chain_starts`.execute(db);
  await sql`create trigger audit_log_append_only before update or delete on audit_log for each row execute function audit_log_is_append_only()`.execute(db);
  await sql`create trigger audit_log_no_truncate before truncate on audit_log for each statement execute function audit_log_is_append_only()`.execute(db);
  await sql`create index audit_log_subject on audit_log (subject_id, occurred_at)`.execute(db);
  await sql`create unique index audit_log_chain_seq on audit_log (chain, seq)`.execute(db);
}
