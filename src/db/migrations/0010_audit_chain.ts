import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';

// The audit log becomes tamper-evident (src/audit/chain.ts): 16 chains, each entry with its
// chain, its place in it, the previous entry's hash and its own. Entries written before this
// migration are chained here, in id order, into chain 0, with the same canonical form.
const CHAINS = 16;
const genesis = (chain: number) => createHash('sha256').update(`iam-istruzione audit chain ${chain}`).digest('hex');

function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((key) => [key, sortedKeys((value as Record<string, unknown>)[key])]));
  }
  return value;
}

interface Row {
  id: string;
  occurred_at: Date;
  actor_kind: string;
  actor_id: string | null;
  subject_id: string | null;
  action: string;
  outcome: string;
  ip: string | null;
  user_agent: string | null;
  client_id: string | null;
  details: unknown;
}

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create table audit_chains (chain smallint primary key, seq bigint not null, head text not null)`.execute(db);
  for (let chain = 0; chain < CHAINS; chain++) {
    await sql`insert into audit_chains (chain, seq, head) values (${chain}, 0, ${genesis(chain)})`.execute(db);
  }
  await sql`alter table audit_log add column chain smallint, add column seq bigint, add column prev_hash text, add column hash text`.execute(db);

  // this migration is the only writer ever allowed to update audit rows
  await sql`alter table audit_log disable trigger audit_log_append_only`.execute(db);
  const { rows } = await sql<Row>`select * from audit_log order by id`.execute(db);
  let head = genesis(0);
  let seq = 0;
  for (const row of rows) {
    seq += 1;
    const canonical = JSON.stringify([
      0, seq, new Date(row.occurred_at).toISOString(), row.actor_kind, row.actor_id?.toLowerCase() ?? null, row.subject_id?.toLowerCase() ?? null,
      row.action, row.outcome, row.ip, row.user_agent, row.client_id, sortedKeys(row.details),
    ]);
    const hash = createHash('sha256').update(head).update('\n').update(canonical).digest('hex');
    await sql`update audit_log set chain = 0, seq = ${seq}, prev_hash = ${head}, hash = ${hash} where id = ${row.id}`.execute(db);
    head = hash;
  }
  await sql`update audit_chains set seq = ${seq}, head = ${head} where chain = 0`.execute(db);
  await sql`alter table audit_log enable trigger audit_log_append_only`.execute(db);

  await sql`alter table audit_log alter column chain set not null, alter column seq set not null, alter column prev_hash set not null, alter column hash set not null`.execute(db);
  await sql`create unique index audit_log_chain_seq on audit_log (chain, seq)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index audit_log_chain_seq`.execute(db);
  await sql`alter table audit_log drop column hash, drop column prev_hash, drop column seq, drop column chain`.execute(db);
  await sql`drop table audit_chains`.execute(db);
}
