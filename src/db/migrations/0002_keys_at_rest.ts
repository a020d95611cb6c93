import { sql, type Kysely } from 'kysely';

// The CSRF secret gets a key of its own (it used to be the cookie key), and from now on the
// database accepts only encrypted secrets, with nothing in clear beside them. NOT VALID: rows an earlier version wrote in clear
// stay readable until the next start encrypts them in place (src/provider/keys.ts).
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table provider_keys drop constraint provider_keys_use_check`.execute(db);
  await sql`alter table provider_keys add constraint provider_keys_use_check check (use in ('signing', 'cookie', 'csrf'))`.execute(db);
  await sql`
    alter table provider_keys add constraint provider_keys_secret_sealed
    check (
      secret ->> 'alg' = 'A256GCM'
      and secret ?& array['iv', 'tag', 'ciphertext']
      and secret - array['v', 'alg', 'iv', 'tag', 'ciphertext'] = '{}'::jsonb
    ) not valid`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table provider_keys drop constraint provider_keys_secret_sealed`.execute(db);
  await sql`delete from provider_keys where use = 'csrf'`.execute(db);
  await sql`alter table provider_keys drop constraint provider_keys_use_check`.execute(db);
  await sql`alter table provider_keys add constraint provider_keys_use_check check (use in ('signing', 'cookie'))`.execute(db);
}
