import { PGlite } from '@electric-sql/pglite';
import { pgliteStartParams } from './pglite-settings.js';

// Run as a child process on the embedded database's first start (db/index.ts): creates the
// data directory given as the only argument, then exits, taking with it the memory that
// initdb grew (about 450 MB the serving process would otherwise keep).
const dir = process.argv[2];
if (!dir) {
  console.error('usage: pglite-initdb <data directory>');
  process.exit(2);
}
const db = new PGlite(dir, { startParams: pgliteStartParams() });
await db.waitReady;
await db.close();
