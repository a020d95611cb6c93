import { Migrator, type MigrationResultSet } from 'kysely';
import type { Db } from './index.js';
import { migrations } from './migrations/index.js';

export async function migrateToLatest(db: Db): Promise<MigrationResultSet> {
  // parallel work lands migrations out of numbering order; each still runs once
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations }, allowUnorderedMigrations: true });
  const result = await migrator.migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error')?.migrationName;
    const reason = (result.error as Error).message ?? String(result.error);
    throw new Error(failed ? `migration ${failed} failed: ${reason}` : reason, { cause: result.error });
  }
  return result;
}
