import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect } from 'kysely';
import type { Database } from '../../src/db/schema.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { pglitePool } from '../../src/db/pglite-pool.js';
import { pgliteStartParams } from '../../src/db/pglite-settings.js';

const PREFIX = 'iam-test-pglite-';
const MIGRATIONS = new URL('../../src/db/migrations/', import.meta.url);

/**
 * Named by what it holds: the migrations' source, and the month (a migration creates the
 * audit log's partitions from "this month"). One file is kept; older ones are removed.
 */
function templateFile(): string {
  const hash = createHash('sha256');
  for (const name of readdirSync(MIGRATIONS).sort()) hash.update(name).update(readFileSync(new URL(name, MIGRATIONS)));
  hash.update(new Date().toISOString().slice(0, 7));
  return join(tmpdir(), `${PREFIX}${hash.digest('hex').slice(0, 16)}.tar`);
}

async function createTemplate(file: string): Promise<void> {
  const pglite = new PGlite('memory://', { startParams: pgliteStartParams() });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: pglitePool(pglite) }) });
  await migrateToLatest(db);
  const dump = await pglite.dumpDataDir('none');
  await db.destroy();
  const partial = `${file}.${process.pid}.partial`;
  writeFileSync(partial, Buffer.from(await dump.arrayBuffer()));
  renameSync(partial, file);
  for (const other of readdirSync(tmpdir()).filter((f) => f.startsWith(PREFIX) && join(tmpdir(), f) !== file && !f.endsWith('.partial'))) {
    rmSync(join(tmpdir(), other), { force: true });
  }
}

/**
 * An embedded database created and migrated once, as a data directory every test server
 * copies: PGlite's start (initdb in WebAssembly) and the migrations cost about 2.5 s a
 * server, loading the copy a fifth of that.
 */
export async function migratedPgliteTemplate(): Promise<Blob> {
  const file = templateFile();
  try {
    return new Blob([readFileSync(file)]);
  } catch {
    await createTemplate(file);
    return new Blob([readFileSync(file)]);
  }
}
