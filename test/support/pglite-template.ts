import { existsSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect } from 'kysely';
import type { Database } from '../../src/db/schema.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { pglitePool } from '../../src/db/pglite-pool.js';
import { pgliteStartParams } from '../../src/db/pglite-settings.js';

// One per test run (jest runs the files in this process, one after another): migrations that
// create partitions for "this month" are never taken from another day's copy.
const FILE = join(tmpdir(), `iam-test-pglite-${process.pid}.tar`);
process.once('exit', () => {
  try {
    unlinkSync(FILE);
  } catch {
    // already gone
  }
});

/**
 * An embedded database created and migrated once, as a data directory every test server
 * copies: PGlite's start (initdb in WebAssembly) and the migrations cost about 2.5 s a
 * server, loading the copy a fifth of that.
 */
export async function migratedPgliteTemplate(): Promise<Blob> {
  if (!existsSync(FILE)) {
    const pglite = new PGlite('memory://', { startParams: pgliteStartParams() });
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: pglitePool(pglite) }) });
    await migrateToLatest(db);
    const dump = await pglite.dumpDataDir('none');
    await db.destroy();
    const partial = `${FILE}.${Math.random().toString(36).slice(2)}`;
    writeFileSync(partial, Buffer.from(await dump.arrayBuffer()));
    renameSync(partial, FILE);
  }
  return new Blob([readFileSync(FILE)]);
}
