/**
 * IAM Istruzione as the bench measures it, in its own process: createServer on 127.0.0.1 and a
 * free port, the default (OWASP) argon2id parameters and the default login throttle, PGlite in
 * BENCH_PGLITE_DIR (or PostgreSQL at DATABASE_URL) and the in-process store (or Redis at
 * REDIS_URL). It provisions one account per sign-in browser (BENCH_ACCOUNTS, default 32) and
 * the bench client, then prints its ready line. It counts its argon2 operations
 * (bench/argon2-count.ts) and answers {type:'argon2-counts'} over the IPC channel.
 *
 * BENCH_FORCED_CHANGE=1 makes it the forced-change server: every password expires seconds
 * after it is set, so every sign-in goes through the password change page, and its accounts
 * are other people, re-created at every start (bench/forced-change-accounts.ts).
 *
 *   node --import tsx bench/server.ts     (bench/run.ts starts it; SIGTERM stops it)
 */
import { loadConfig } from '../src/config.js';
import { createServer } from '../src/server.js';
import { countArgon2 } from './argon2-count.js';
import { forcedChangePolicy, provisionForcedChangeAccounts } from './forced-change-accounts.js';
import { announce, benchPerson, benchService, describeThreadpool, freePort, stderrLogger, stopOnSignals, type ForcedChangeSetup } from './shared.js';

/** SQL statement → how often and how long (ms), when BENCH_QUERY_STATS=1 (bench/profile.ts). */
const queryStats = new Map<string, { count: number; ms: number }>();

/**
 * Times every PGlite query, by wrapping the method on the class src/db/index.ts instantiates
 * (the same module instance): PGlite runs PostgreSQL compiled to WebAssembly on this process's
 * main thread, so this is event-loop time. Answers {type:'query-stats'} over the IPC channel.
 */
async function instrumentPglite(): Promise<void> {
  const { PGlite } = await import('@electric-sql/pglite');
  let owner: object | null = PGlite.prototype;
  while (owner && !Object.getOwnPropertyNames(owner).includes('query')) owner = Object.getPrototypeOf(owner) as object | null;
  if (!owner) throw new Error('PGlite.query not found');
  const target = owner as { query: (...args: unknown[]) => Promise<unknown> };
  const original = target.query;
  target.query = async function (this: unknown, ...args: unknown[]) {
    const key = String(args[0]).replace(/\s+/g, ' ').trim().slice(0, 90);
    const t0 = performance.now();
    try {
      return await original.apply(this, args);
    } finally {
      const entry = queryStats.get(key) ?? { count: 0, ms: 0 };
      entry.count += 1;
      entry.ms += performance.now() - t0;
      queryStats.set(key, entry);
    }
  };
  process.on('message', (message: { type?: string }) => {
    if (message?.type === 'query-stats-reset') queryStats.clear();
    if (message?.type === 'query-stats') process.send?.({ type: 'query-stats', stats: Object.fromEntries(queryStats) });
  });
}

async function main(): Promise<void> {
  if (process.env.BENCH_QUERY_STATS === '1') await instrumentPglite();
  countArgon2();
  const accountCount = Math.max(1, Math.round(Number(process.env.BENCH_ACCOUNTS ?? 32) || 32));
  const forcedChange = process.env.BENCH_FORCED_CHANGE === '1';
  const passwordPolicy = forcedChange ? forcedChangePolicy() : undefined;
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const pgliteDir = process.env.BENCH_PGLITE_DIR;
  if (!process.env.DATABASE_URL && !pgliteDir) throw new Error('BENCH_PGLITE_DIR or DATABASE_URL is required');

  const config = loadConfig({
    ...process.env,
    // the production image's mode (views compiled once, not per request)
    NODE_ENV: process.env.BENCH_NODE_ENV ?? 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    ISSUER: url,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    DEMO_SEED: 'false',
    // the load generator stands for many people on one address
    SIGN_IN_STARTS_PER_MINUTE: process.env.SIGN_IN_STARTS_PER_MINUTE ?? '1000000',
    // production refuses to run on PostgreSQL without one; the bench's own databases take a fixed one
    KEYS_ENCRYPTION_KEY: process.env.KEYS_ENCRYPTION_KEY ?? Buffer.alloc(32, 'iam-istruzione-bench-kek').toString('base64'),
  });
  const logger = stderrLogger(config.logLevel);
  const server = await createServer({
    config,
    logger,
    pgliteDir: config.databaseUrl ? undefined : pgliteDir,
    services: [benchService()],
    // argon2 and throttleLimits left out on purpose: the production defaults
    ...(passwordPolicy ? { passwordPolicy } : {}),
  });
  stopOnSignals(() => server.close());

  // one account per sign-in browser: the throttle counts attempts per username, as it would
  // count one person signing in again and again
  const usernames: string[] = [];
  let forcedChangeSetup: ForcedChangeSetup | undefined;
  if (passwordPolicy) {
    const provisioned = await provisionForcedChangeAccounts(server, accountCount, passwordPolicy);
    usernames.push(...provisioned.usernames);
    forcedChangeSetup = provisioned.setup;
  } else {
    for (let i = 0; i < accountCount; i++) {
      const existing = await server.deps.accounts.findByFiscalCode(benchPerson(i).fiscalCode);
      usernames.push((existing ?? (await server.deps.provisioning.provision(benchPerson(i)))).username);
    }
  }
  await server.listen(port, '127.0.0.1');

  announce({
    url,
    database: config.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : `PGlite (files in a temporary directory)`,
    store: config.redis ? 'Redis (REDIS_URL)' : 'in-process memory store (src/adapters/memory.ts)',
    username: usernames[0]!,
    usernames,
    threadpool: describeThreadpool(),
    nodeEnv: config.env,
    pid: process.pid,
    ...(forcedChangeSetup ? { forcedChange: forcedChangeSetup } : {}),
  });
}

main().catch((error: unknown) => {
  console.error('bench/server: start-up failed:', error);
  process.exit(1);
});
