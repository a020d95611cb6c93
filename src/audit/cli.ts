import { ConfigError, loadConfig } from '../config.js';
import { createDatabase, pgliteDirectory } from '../db/index.js';
import { migrateToLatest } from '../db/migrate.js';
import { verifyAuditChains } from './verify.js';

/** `npm run audit -- verify`: walks every audit chain; exit 1 when one is broken. */
async function main(): Promise<number> {
  if (process.argv[2] !== 'verify') {
    console.error('uso: npm run audit -- verify   (verifica che il registro di audit non sia stato alterato)');
    return 2;
  }
  const config = loadConfig();
  const db = await createDatabase({ databaseUrl: config.databaseUrl, pgliteDir: pgliteDirectory(config.dataDir) });
  try {
    await migrateToLatest(db);
    const { ok, chains } = await verifyAuditChains(db);
    const entries = chains.reduce((n, c) => n + c.entries, 0);
    for (const chain of chains) {
      for (const problem of chain.problems) console.log(`chain ${chain.chain}: ${problem}`);
    }
    console.log(ok
      ? `audit log intact: ${entries} entries in ${chains.length} chains, every hash and link verified`
      : `AUDIT LOG ALTERED: ${chains.reduce((n, c) => n + c.problems.length, 0)} problems in ${chains.filter((c) => c.problems.length).length} chains (${entries} entries read)`);
    return ok ? 0 : 1;
  } finally {
    await db.destroy();
  }
}

main().then((code) => process.exit(code), (error: unknown) => {
  console.error(`iam-istruzione audit: ${error instanceof ConfigError ? error.message : String(error)}`);
  process.exit(1);
});
