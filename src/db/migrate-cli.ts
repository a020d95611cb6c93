import { loadConfig } from '../config.js';
import { createDatabase, pgliteDirectory } from './index.js';
import { migrateToLatest } from './migrate.js';

const config = loadConfig();
const db = await createDatabase({ databaseUrl: config.databaseUrl, pgliteDir: pgliteDirectory(config.dataDir) });
try {
  const { results = [] } = await migrateToLatest(db);
  for (const r of results) console.log(`${r.migrationName}: ${r.status}`);
  if (results.length === 0) console.log('database already up to date');
} catch (error) {
  console.error(`migrate: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await db.destroy();
}
