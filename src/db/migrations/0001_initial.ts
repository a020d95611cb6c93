import { sql, type Kysely } from 'kysely';

// Accounts (DOMAIN.md §3–§4), their password history, school assignments, the
// append-only audit log, and the provider's persisted keys.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('accounts')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('username', 'text', (c) => c.notNull())
    .addColumn('account_type', 'text', (c) => c.notNull().check(sql`account_type in ('standard', 'mi')`))
    .addColumn('given_name', 'text', (c) => c.notNull())
    .addColumn('family_name', 'text', (c) => c.notNull())
    .addColumn('fiscal_code', 'char(16)', (c) => c.notNull().unique().check(sql`fiscal_code = upper(fiscal_code)`))
    .addColumn('birth_date', 'date', (c) => c.notNull())
    .addColumn('birth_place', 'text', (c) => c.notNull())
    .addColumn('sex', 'char(1)', (c) => c.notNull().check(sql`sex in ('M', 'F')`))
    .addColumn('personal_email', 'text')
    .addColumn('personal_email_verified', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('institutional_email', 'text', (c) =>
      c.check(sql`institutional_email is null or lower(institutional_email) ~ '@(posta\\.)?istruzione\\.it$'`))
    .addColumn('mailbox_state', 'text', (c) => c.check(sql`mailbox_state in ('ATTIVA', 'SOSPESA', 'CESSATA')`))
    .addColumn('mobile_phone', 'text')
    .addColumn('home_phone', 'text')
    .addColumn('street_address', 'text')
    .addColumn('postal_code', 'text')
    .addColumn('municipality', 'text')
    .addColumn('province', 'text')
    .addColumn('country', 'text')
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('active').check(sql`status in ('active', 'suspended')`))
    .addColumn('locked_until', 'timestamptz')
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('password_changed_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('password_expires_at', 'timestamptz')
    .addColumn('password_temporary', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('accounts_mailbox_needs_address', sql`(institutional_email is null) = (mailbox_state is null)`)
    .execute();
  await sql`create unique index accounts_username_lower on accounts (lower(username))`.execute(db);
  await sql`create index accounts_personal_email_lower on accounts (lower(personal_email))`.execute(db);

  await db.schema
    .createTable('password_history')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('set_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('password_history_account').on('password_history').columns(['account_id', 'set_at']).execute();

  await db.schema
    .createTable('school_assignments')
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('school_code', 'text', (c) => c.notNull().check(sql`school_code ~ '^[A-Z]{2}[A-Z0-9]{8}$'`))
    .addColumn('role', 'text', (c) =>
      c.notNull().check(sql`role in ('ds', 'dsga', 'assistente_amministrativo', 'docente', 'ata')`))
    .addColumn('security_officer', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('school_assignments_pk', ['account_id', 'school_code', 'role'])
    .execute();
  await db.schema.createIndex('school_assignments_school').on('school_assignments').column('school_code').execute();

  await db.schema
    .createTable('audit_log')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('occurred_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('actor_kind', 'text', (c) => c.notNull().check(sql`actor_kind in ('user', 'officer', 'admin', 'system', 'anonymous')`))
    .addColumn('actor_id', 'uuid')
    .addColumn('subject_id', 'uuid')
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull().check(sql`outcome in ('success', 'failure', 'refused')`))
    .addColumn('ip', 'text')
    .addColumn('user_agent', 'text')
    .addColumn('client_id', 'text')
    .addColumn('details', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .execute();
  await db.schema.createIndex('audit_log_subject').on('audit_log').columns(['subject_id', 'occurred_at']).execute();
  await sql`
    create function audit_log_is_append_only() returns trigger language plpgsql as $$
    begin
      raise exception 'audit_log is append-only';
    end $$`.execute(db);
  await sql`
    create trigger audit_log_append_only before update or delete on audit_log
    for each row execute function audit_log_is_append_only()`.execute(db);
  await sql`
    create trigger audit_log_no_truncate before truncate on audit_log
    for each statement execute function audit_log_is_append_only()`.execute(db);

  await db.schema
    .createTable('provider_keys')
    .addColumn('kid', 'text', (c) => c.primaryKey())
    .addColumn('use', 'text', (c) => c.notNull().check(sql`use in ('signing', 'cookie')`))
    .addColumn('alg', 'text')
    .addColumn('secret', 'jsonb', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('retired_at', 'timestamptz')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('provider_keys').execute();
  await sql`drop trigger if exists audit_log_no_truncate on audit_log`.execute(db);
  await sql`drop trigger if exists audit_log_append_only on audit_log`.execute(db);
  await db.schema.dropTable('audit_log').execute();
  await sql`drop function if exists audit_log_is_append_only()`.execute(db);
  await db.schema.dropTable('school_assignments').execute();
  await db.schema.dropTable('password_history').execute();
  await db.schema.dropTable('accounts').execute();
}
