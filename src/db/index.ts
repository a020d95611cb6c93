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
}

// pg returns DATE columns as JS Dates in local time; keep them as 'YYYY-MM-DD' strings.
pg.types.setTypeParser(pg.types.builtins.DATE, (value: string) => value);

export async function createDatabase(options: DatabaseOptions): Promise<Db> {
  if (options.databaseUrl) {
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 20 });
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
