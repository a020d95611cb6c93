import { ConfigError, loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { createServer, StartupError } from '../server.js';
import { runJobsOnce } from './scheduler.js';

/** `npm run jobs -- --once`: the scheduled jobs, once, for an external cron. */
async function main(): Promise<void> {
  if (!process.argv.includes('--once')) {
    console.error('uso: npm run jobs -- --once   (esegue una volta i lavori pianificati: promemoria di scadenza delle password, avvisi e disattivazioni per inattività, teste delle catene di audit nel log, pulizia delle registrazioni abbandonate)');
    process.exit(2);
  }
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const server = await createServer({ config, logger });
  try {
    const ok = await runJobsOnce(server.deps.jobs, logger);
    process.exitCode = ok ? 0 : 1;
  } finally {
    await server.close();
  }
}

main().catch((error: unknown) => {
  const known = error instanceof ConfigError || error instanceof StartupError;
  console.error(`iam-istruzione jobs: ${known ? (error as Error).message : String(error)}`);
  process.exit(1);
});
