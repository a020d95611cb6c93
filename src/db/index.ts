import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';
import { pglitePool } from './pglite-pool.js';
import { pgliteNotifications, postgresNotifications, registerNotifications } from './notifications.js';
import { pgliteStartParams } from './pglite-settings.js';

export type Db = Kysely<Database>;

export interface DatabaseOptions {
  databaseUrl?: string;
  /** Where PGlite keeps its files; 'memory://' for a throwaway database. */
  pgliteDir?: string;
  /** told when an idle pooled connection fails (PostgreSQL restarted) */
  onIdleClientError?: (error: Error) => void;
  /** a 'memory://' database starts as a copy of this data directory (tests: one migrated once) */
  pgliteTemplate?: Blob;
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
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    registerNotifications(db, postgresNotifications(options.databaseUrl));
    return db;
  }
  const { PGlite } = await import('@electric-sql/pglite');
  const dir = options.pgliteDir ?? 'memory://';
  if (!dir.startsWith('memory://')) {
    mkdirSync(dir, { recursive: true });
    await initPgliteApart(dir);
  }
  // DATE stays a 'YYYY-MM-DD' string here too (OID 1082).
  const template = dir.startsWith('memory://') && options.pgliteTemplate ? { loadDataDir: options.pgliteTemplate } : {};
  const pglite = new PGlite(dir, { parsers: { 1082: (value: string) => value }, startParams: pgliteStartParams(), ...template });
  await pglite.waitReady;
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: pglitePool(pglite) }) });
  registerNotifications(db, pgliteNotifications(pglite));
  return db;
}

/**
 * A data directory not yet created is created by a child process (db/pglite-initdb.ts):
 * initdb grows the WebAssembly memory by about 450 MB that the serving process would never
 * give back. If the child cannot run (an unusual runtime), PGlite creates it in-process.
 */
async function initPgliteApart(dir: string): Promise<void> {
  if (existsSync(join(dir, 'PG_VERSION'))) return;
  const compiled = fileURLToPath(new URL('./pglite-initdb.js', import.meta.url));
  const script = existsSync(compiled) ? compiled : compiled.replace(/\.js$/, '.ts');
  // the TypeScript source runs only under a loader that can (tsx); elsewhere (jest) in-process
  if (!existsSync(script) || (script.endsWith('.ts') && !process.execArgv.some((arg) => arg.includes('tsx')))) return;
  const child = spawn(process.execPath, [...process.execArgv, script, dir], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`creating the embedded database in ${dir} failed: ${stderr.trim().split('\n').at(-1) ?? `exit ${code}`}`);
}

export function pgliteDirectory(dataDir: string): string {
  return join(dataDir, 'pglite');
}
