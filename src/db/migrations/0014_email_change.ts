import { sql, type Kysely } from 'kysely';

// The Area riservata (issue 15): a personal e-mail change waiting for the code sent to the new
// address (one per account; only the code's SHA-256 kept, tries counted), and the opt-in
// e-mail at every sign-in (AgID Regolamento, art. 18).
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table email_changes (
      account_id uuid primary key references accounts (id) on delete cascade,
      new_email text not null,
      code_hash text not null,
      tries integer not null default 0,
      sent_at timestamptz not null,
      expires_at timestamptz not null
    )`.execute(db);
  await sql`alter table accounts add column sign_in_notice boolean not null default false`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table accounts drop column sign_in_notice`.execute(db);
  await sql`drop table email_changes`.execute(db);
}
