import { ConfigError, loadConfig } from './config.js';
import { seedDemoAccounts } from './demo/seed.js';
import { createLogger } from './logger.js';
import { ClientsFileError } from './services/catalogue.js';
import { ADMIN_CONSOLE, AREA_RISERVATA, OFFICER_CONSOLE } from './services/consoles.js';
import { scheduleJobs } from './jobs/scheduler.js';
import { createServer, StartupError } from './server.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const server = await createServer({ config, logger });
  const demoAccounts = config.demoSeed ? await seedDemoAccounts(server.deps.accounts, server.deps.provisioning, server.deps.administrators) : [];
  // before anything is printed: whoever reads the banner may signal at once
  let stopping = false;
  let jobs: { stop(): void } | undefined;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    jobs?.stop();
    await server.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  const url = await server.listen();
  if (config.jobsSchedule !== 'off') jobs = scheduleJobs(server.deps.jobs, config.jobsSchedule, logger);

  const lines = [
    '',
    `IAM Istruzione in ascolto su ${url} (issuer ${config.issuer})`,
    // requests for any other host are refused (http/request-origin.ts), so say where to go
    `  apri ${config.issuer}/ nel browser`,
    `  database: ${config.databaseUrl ? 'PostgreSQL' : `PGlite (${config.dataDir})`}; store: ${config.redis ? (config.redis.cluster ? 'Redis Cluster' : 'Redis') : 'in-process'}; e-mail: ${server.deps.mailer.describe()}`,
    '',
    'Servizi registrati (demo: npm run demo-rp -- <id>):',
    ...server.services.map((s) => `  - ${s.id.padEnd(20)} ${s.name}${s.demoPort ? `  → http://localhost:${s.demoPort}/` : ''}`),
    '',
    `SIDI – Gestione Utenze (Responsabili della sicurezza): ${config.issuer}${OFFICER_CONSOLE.path}`,
    `Area riservata: ${config.issuer}${AREA_RISERVATA.path}   Amministrazione: ${config.issuer}${ADMIN_CONSOLE.path}`,
  ];
  if (demoAccounts.length) {
    lines.push('', 'Utenze demo:', ...demoAccounts.map((a) => `  - ${a.username.padEnd(14)} password ${a.password}   (${a.label})`));
  }
  console.log(lines.join('\n') + '\n');
}

main().catch((error: unknown) => {
  const code = (error as { code?: string }).code;
  if (code === 'EADDRINUSE' || code === 'EACCES') {
    const { address, port } = error as { address?: string; port?: number };
    console.error(`iam-istruzione: cannot listen on ${address ?? 'HOST'}:${port ?? 'PORT'} (${code === 'EADDRINUSE' ? 'the port is in use' : 'not allowed'}): set PORT or HOST.`);
  } else if (error instanceof ConfigError || error instanceof StartupError || error instanceof ClientsFileError) {
    console.error(`iam-istruzione: ${error.message}`);
  } else {
    console.error('iam-istruzione: start-up failed:', error);
  }
  process.exit(1);
});
