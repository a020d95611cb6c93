/**
 * The flood and the fault runs of `npm run bench` (issue 13), each against a server of its
 * own, and their sections of docs/benchmarks.md. bench/run.ts gives the means to start
 * servers and child scripts.
 */
import { Redis } from 'ioredis';
import { faultVerdicts, runFault, startOwnPostgres, startOwnRedis, type FaultRun } from './faults.js';
import type { ReadyMessage } from './shared.js';
import { signInOnce, type SignInTarget } from './signin.js';
import { residentBytes, runStampede, type StampedeResult } from './stampede.js';

export interface BenchMeans {
  startServer(script: string, env: NodeJS.ProcessEnv): Promise<{ process: { pid?: number }; ready: ReadyMessage }>;
  runJsonChild<T>(script: string, args: string[], timeoutSeconds: number): Promise<T>;
  stopAll(): Promise<void>;
  target(ready: ReadyMessage): SignInTarget;
}

/** How many sign-ins one address may start in a minute in production (SIGN_IN_STARTS_PER_MINUTE). */
const STARTS_PER_MINUTE = 120;

export interface FloodMeasurement {
  seconds: number;
  flood: { requests: number; perSecond: number; statuses: Record<string, number> };
  users: StampedeResult;
  rssBeforeBytes: number;
  /** Redis used_memory before and at its peak, bytes (with REDIS_URL) */
  redis?: { beforeBytes: number; peakBytes: number };
}

/**
 * One address (bench/flood.ts) sends GET /auth as fast as it can while people, each at an
 * address of their own, sign in at `usersPerSecond`; the server trusts one proxy hop and
 * keeps the production limit of sign-in starts per address.
 */
export async function measureFlood(means: BenchMeans, env: NodeJS.ProcessEnv, usersPerSecond: number, seconds: number): Promise<FloodMeasurement> {
  const server = await means.startServer('bench/server.ts', { ...env, SIGN_IN_STARTS_PER_MINUTE: String(STARTS_PER_MINUTE), TRUST_PROXY: '1' });
  const target = means.target(server.ready);
  await signInOnce(target, {}, undefined, { headers: { 'x-forwarded-for': '10.255.255.254' } });
  const pid = server.process.pid!;
  const rssBeforeBytes = residentBytes(pid);
  const redis = process.env.REDIS_URL ? new Redis(process.env.REDIS_URL, { maxRetriesPerRequest: 1 }) : undefined;
  const usedMemory = async () => Number(/used_memory:(\d+)/.exec((await redis!.info('memory')))?.[1] ?? 0);
  const redisMemory = redis ? { beforeBytes: await usedMemory(), peakBytes: 0 } : undefined;
  const sampler = redis ? setInterval(() => void usedMemory().then((b) => (redisMemory!.peakBytes = Math.max(redisMemory!.peakBytes, b)), () => undefined), 1000) : undefined;
  try {
    const [users, flood] = await Promise.all([
      runStampede(target, {
        offeredPerSecond: usersPerSecond,
        seconds,
        serverPid: pid,
        headersFor: (n) => ({ 'x-forwarded-for': `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}` }),
      }),
      means.runJsonChild<FloodMeasurement['flood']>('bench/flood.ts', [server.ready.url, String(seconds), target.clientId, target.redirectUri], seconds + 60),
    ]);
    return { seconds, flood, users, rssBeforeBytes, redis: redisMemory };
  } finally {
    clearInterval(sampler);
    redis?.disconnect();
    await means.stopAll();
  }
}

/** Redis, then PostgreSQL, stopped for `downSeconds` under sign-ins at `perSecond`; the stores are the run's own. */
export async function measureFaults(means: BenchMeans, env: NodeJS.ProcessEnv, perSecond: number): Promise<FaultRun[]> {
  const redis = await startOwnRedis();
  const postgres = await startOwnPostgres();
  try {
    const server = await means.startServer('bench/server.ts', {
      ...env,
      DATABASE_URL: postgres.url,
      REDIS_URL: redis.url,
      BENCH_PGLITE_DIR: '',
      // every request while a store is down logs a warning: the report says what happened
      LOG_LEVEL: 'error',
    });
    const target = means.target(server.ready);
    await signInOnce(target, {});
    const runs: FaultRun[] = [];
    for (const store of [redis, postgres]) runs.push(await runFault(target, store, { perSecond, beforeSeconds: 5, downSeconds: 8, afterSeconds: 10 }));
    return runs;
  } finally {
    await means.stopAll();
    await redis.remove();
    await postgres.remove();
  }
}

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const check = (ok: boolean) => (ok ? 'PASS' : 'MISS');
const statusList = (codes: Record<string, number>) => Object.entries(codes).map(([code, n]) => `${code}×${n}`).join(', ') || '—';

export function floodSection(m: FloodMeasurement, rssBoundMiB: number): string[] {
  // a 303 to the sign-in page is a sign-in started (an Interaction stored); 429 and 503 store nothing
  const admitted = m.flood.statuses['303'] ?? 0;
  const allowed = STARTS_PER_MINUTE * Math.ceil(m.seconds / 60 + 1);
  const completedShare = m.users.completed / Math.max(1, m.users.offered);
  const peakMiB = m.users.peakRssBytes / 2 ** 20;
  const redisGrowthMiB = m.redis ? (m.redis.peakBytes - m.redis.beforeBytes) / 2 ** 20 : 0;
  return [
    '## Flood',
    '',
    `For ${m.seconds} s one address (bench/flood.ts, 64 connections) sent \`GET /auth\` as fast as it could — ${fmt(m.flood.perSecond)} requests/s, ${m.flood.requests} in all —`,
    `while people at addresses of their own signed in at ${m.users.offeredPerSecond}/s (open loop, bench/stampede.ts). The server trusted one proxy hop and kept the`,
    `production limit of ${STARTS_PER_MINUTE} sign-in starts per address and minute (src/http/sign-in-starts.ts).`,
    '',
    `Flood answers: ${statusList(m.flood.statuses)}. People: offered ${m.users.offered}, completed ${m.users.completed}, shed ${m.users.shed}, failed ${m.users.failed}` +
      `${m.users.failed ? ` (${Object.entries(m.users.failures).map(([k, n]) => `${k}×${n}`).join(', ')})` : ''}. Resident memory ${fmt(m.rssBeforeBytes / 2 ** 20)} MiB before,` +
      ` ${fmt(peakMiB)} MiB at the peak, ${fmt(m.users.rssAfterBytes / 2 ** 20)} MiB after.` +
      (m.redis ? ` Redis used_memory ${fmt(m.redis.beforeBytes / 2 ** 20, 1)} MiB before, ${fmt(m.redis.peakBytes / 2 ** 20, 1)} MiB at the peak.` : ''),
    '',
    '| Bound | Measured | Verdict |',
    '| --- | ---: | --- |',
    `| the flood is throttled: at most ${allowed} of its requests start a sign-in (${STARTS_PER_MINUTE} per minute, two windows at most) | ${admitted} | **${check(admitted <= allowed)}** |`,
    `| people's sign-ins complete (≥ 95 %, none failed) | ${(completedShare * 100).toFixed(1)} %, ${m.users.failed} failed | **${check(completedShare >= 0.95 && m.users.failed === 0)}** |`,
    `| peak resident memory under ${rssBoundMiB} MiB | ${fmt(peakMiB)} MiB | **${check(peakMiB < rssBoundMiB)}** |`,
    ...(m.redis ? [`| Redis grows by less than 16 MiB | ${fmt(redisGrowthMiB, 1)} MiB | **${check(redisGrowthMiB < 16)}** |`] : []),
    '',
  ];
}

export function faultSection(runs: FaultRun[], perSecond: number): string[] {
  const lines = [
    '## Fault runs',
    '',
    `Sign-ins offered at ${fmt(perSecond, 1)}/s (open loop, a fresh browser each) to a server on a PostgreSQL and a Redis of the run's own (bench/faults.ts;`,
    'Redis with its append-only file). Five seconds in, the store was stopped (Redis: SIGTERM; PostgreSQL: `pg_ctl stop -m fast`), started again eight',
    'seconds later, and the load went on for ten more. What the store held was counted just before the stop and after the run: Session entries in Redis,',
    'accounts and audit entries in PostgreSQL.',
    '',
    '| Store | Answers while down | Slowest answer while down | Other 5xx or no answer | Every new sign-in completes again after | Lost | Sign-ins completed / shed / failed | Verdict |',
    '| --- | --- | ---: | ---: | ---: | ---: | --- | --- |',
  ];
  for (const run of runs) {
    const v = faultVerdicts(run);
    const only503 = Object.keys(v.duringStatuses).every((s) => s === '503' || Number(s) < 500) && v.otherErrors === 0;
    const ok = only503 && v.slowestDuringMs <= 2000 && v.recoverySeconds <= 5 && v.lost === 0;
    lines.push(
      `| ${run.store} | ${statusList(v.duringStatuses)} | ${fmt(v.slowestDuringMs)} ms | ${v.otherErrors} | ${fmt(v.recoverySeconds, 1)} s | ${v.lost} of ${run.heldBefore} | ` +
        `${v.signIns.completed} / ${v.signIns.shed} / ${v.signIns.failed}${v.failures.length ? ` (${v.failures.slice(0, 3).join('; ')})` : ''} | **${check(ok)}** |`,
    );
  }
  lines.push(
    '',
    'Bounds (issue 13): while a store is down, only 503 (answers that need no store, such as a redirect, may still be 2xx/3xx) and each within 2 s;',
    'every new sign-in completes within 5 s of the return; nothing held before the stop is lost.',
    '',
  );
  return lines;
}
