import { sql, type Kysely } from 'kysely';

// Every change to a service — through the administration, a registration or by hand — is
// announced on the channel iam_catalogue with the service's id, delivered at commit: each
// instance drops its cached copy (src/services/catalogue-cache.ts).
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create function announce_service_change() returns trigger language plpgsql as $$
    begin
      if tg_op = 'DELETE' then
        perform pg_notify('iam_catalogue', old.id);
      else
        perform pg_notify('iam_catalogue', new.id);
      end if;
      return null;
    end $$`.execute(db);
  await sql`
    create trigger services_announce after insert or update or delete on services
    for each row execute function announce_service_change()`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop trigger services_announce on services`.execute(db);
  await sql`drop function announce_service_change()`.execute(db);
}
