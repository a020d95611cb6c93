import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';
import { pglitePool } from './pglite-pool.js';

export type Db = Kysely<Database>;

export interface DatabaseOptions {
  databaseUrl?: string;
  /** Where PGlite keeps its files; 'memory://' for a throwaway database. */
  pgliteDir?: string;
  /** told when an idle pooled connection fails (PostgreSQL restarted) */
  onIdleClientError?: (error: Error) => void;
}

// pg returns DATE columns as JS Dates in local time; keep them as 'YYYY-MM-DD' strings.
pg.types.setTypeParser(pg.types.builtins.DATE, (value: string) => value);

export async function createDatabase(options: DatabaseOptions): Promise<Db> {
  if (options.databaseUrl) {
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: 20,
      // while PostgreSQL is away a request fails in about a second (503) instead of waiting
      connectionTimeoutMillis: 1000,
      // a statement that hangs (a lock, a stalled network) frees its connection
      query_timeout: 10_000,
    });
    // an idle client whose server went away (restart, failover) is dropped and replaced at
    // the next checkout; without a listener the 'error' event would end the process
    pool.on('error', (error) => options.onIdleClientError?.(error));
    return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  }
  const { PGlite } = await import('@electric-sql/pglite');
  const dir = options.pgliteDir ?? 'memory://';
  if (!dir.startsWith('memory://')) mkdirSync(dir, { recursive: true });
  // DATE stays a 'YYYY-MM-DD' string here too (OID 1082).
  const pglite = new PGlite(dir, { parsers: { 1082: (value: string) => value } });
  await pglite.waitReady;
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool: pglitePool(pglite) }) });
}

export function pgliteDirectory(dataDir: string): string {
  return join(dataDir, 'pglite');
}
