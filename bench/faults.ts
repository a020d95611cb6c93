/**
 * Fault runs (issue 13): under a steady load of sign-ins, a store is stopped and started
 * again — Redis (with its append-only file: a clean stop keeps what it holds), then
 * PostgreSQL — and every request's answer is kept with the moment it was sent. The stores
 * are the run's own processes on loopback, whatever the rest of the bench uses.
 *
 * Read from a run: what was answered while the store was down (503 only, and how fast),
 * how long after its return every new sign-in completes again, and whether anything held
 * before the stop (sessions in Redis; accounts and audit entries in PostgreSQL) was lost.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { freePort } from './shared.js';
import { freshAccount, signInOnce, StepError, type SignInTarget } from './signin.js';

/** A store the run may stop and start, and count what it holds. */
export interface StoppableStore {
  name: 'Redis' | 'PostgreSQL';
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** what must survive the outage: Session entries, or accounts + audit entries */
  held(): Promise<number>;
  remove(): Promise<void>;
}

export interface FaultRun {
  store: StoppableStore['name'];
  /** ms from the run's start */
  stoppedAt: number;
  restartedAt: number;
  /** every request: when it was sent (ms from the run's start), its status (0: no answer), how long it took */
  requests: Array<{ at: number; status: number; ms: number }>;
  /** every sign-in: when it started and how it ended */
  signIns: Array<{ at: number; outcome: 'completed' | 'shed' | 'failed'; what?: string }>;
  heldBefore: number;
  heldAfter: number;
}

/** redis-server on loopback with an append-only file, as production should run it. */
export async function startOwnRedis(): Promise<StoppableStore> {
  const dir = mkdtempSync(join(tmpdir(), 'iam-bench-redis-'));
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', ''], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    for (let i = 0; i < 200 && !out.includes('Ready to accept connections'); i++) await new Promise((r) => setTimeout(r, 25));
    if (!out.includes('Ready to accept connections')) throw new Error(`redis-server did not start:\n${out}`);
  };
  const stop = async () => {
    if (!child || child.exitCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  };
  await start();
  const url = `redis://127.0.0.1:${port}`;
  return {
    name: 'Redis',
    url,
    start,
    stop,
    async held() {
      const client = new Redis(url, { maxRetriesPerRequest: 2 });
      try {
        let cursor = '0';
        let sessions = 0;
        do {
          const [next, keys] = await client.scan(cursor, 'MATCH', '*:Session:*', 'COUNT', 1000);
          cursor = next;
          sessions += keys.length;
        } while (cursor !== '0');
        return sessions;
      } finally {
        client.disconnect();
      }
    },
    async remove() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A PostgreSQL of the run's own (Debian's binaries, as the fault tests use). */
export async function startOwnPostgres(): Promise<StoppableStore> {
  const { startPrivatePostgres } = await import('../test/support/private-postgres.js');
  const postgres = await startPrivatePostgres();
  return {
    name: 'PostgreSQL',
    url: postgres.url,
    start: async () => postgres.start(),
    stop: async () => postgres.stop(),
    async held() {
      const client = new pg.Client({ connectionString: postgres.url });
      await client.connect();
      try {
        const { rows } = await client.query<{ n: string }>('select (select count(*) from accounts) + (select count(*) from audit_log) as n');
        return Number(rows[0]!.n);
      } finally {
        await client.end();
      }
    },
    remove: async () => postgres.remove(),
  };
}

/**
 * Sign-ins offered at `perSecond` (open loop, a fresh browser each) for before + down + after
 * seconds; the store is stopped `before` seconds in and started again `down` seconds later.
 */
export async function runFault(
  target: SignInTarget,
  store: StoppableStore,
  options: { perSecond: number; beforeSeconds: number; downSeconds: number; afterSeconds: number },
): Promise<FaultRun> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  const usernames = target.usernames?.length ? target.usernames : [target.username];
  const t0 = performance.now();
  const now = () => performance.now() - t0;
  const run: FaultRun = { store: store.name, stoppedAt: 0, restartedAt: 0, requests: [], signIns: [], heldBefore: 0, heldAfter: 0 };

  const one = async (n: number) => {
    const at = now();
    const observe = (_step: unknown, ms: number, status: number) => run.requests.push({ at: now() - ms, status, ms });
    try {
      await signInOnce(target, {}, freshAccount(usernames[n % usernames.length]!, target.password), { observe, agent });
      run.signIns.push({ at, outcome: 'completed' });
    } catch (error) {
      const what = error instanceof StepError ? `${error.step} ${error.what}` : (error as Error).message;
      if (error instanceof StepError && error.what.startsWith('network error')) run.requests.push({ at: now(), status: 0, ms: 0 });
      run.signIns.push({ at, outcome: error instanceof StepError && error.what === '503' ? 'shed' : 'failed', what });
    }
  };

  const fault = (async () => {
    await new Promise((r) => setTimeout(r, options.beforeSeconds * 1000));
    run.heldBefore = await store.held();
    await store.stop();
    run.stoppedAt = now();
    await new Promise((r) => setTimeout(r, options.downSeconds * 1000));
    await store.start();
    run.restartedAt = now();
  })();

  const flows: Promise<void>[] = [];
  const total = (options.beforeSeconds + options.downSeconds + options.afterSeconds) * 1000;
  const interval = 1000 / options.perSecond;
  for (let n = 0; now() < total; n++) {
    const wait = n * interval - now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    flows.push(one(n));
  }
  await fault;
  await Promise.all(flows);
  agent.destroy();
  run.heldAfter = await store.held();
  return run;
}

/** What a fault run shows, against the bounds. */
export function faultVerdicts(run: FaultRun) {
  const during = run.requests.filter((r) => r.at >= run.stoppedAt && r.at < run.restartedAt);
  const otherErrors = run.requests.filter((r) => r.status === 0 || (r.status >= 500 && r.status !== 503));
  const slowestDuring = Math.max(0, ...during.map((r) => r.ms));
  // the earliest moment after the return from which every sign-in started completed
  const after = run.signIns.filter((s) => s.at >= run.restartedAt).sort((a, b) => a.at - b.at);
  let recoveredAt = Number.NaN;
  for (let i = after.length - 1; i >= 0 && after[i]!.outcome === 'completed'; i--) recoveredAt = after[i]!.at;
  return {
    during: during.length,
    duringStatuses: during.reduce<Record<string, number>>((acc, r) => ({ ...acc, [r.status]: (acc[r.status] ?? 0) + 1 }), {}),
    otherErrors: otherErrors.length,
    slowestDuringMs: slowestDuring,
    recoverySeconds: (recoveredAt - run.restartedAt) / 1000,
    lost: Math.max(0, run.heldBefore - run.heldAfter),
    signIns: {
      completed: run.signIns.filter((s) => s.outcome === 'completed').length,
      shed: run.signIns.filter((s) => s.outcome === 'shed').length,
      failed: run.signIns.filter((s) => s.outcome === 'failed').length,
    },
    failures: [...new Set(run.signIns.filter((s) => s.outcome === 'failed').map((s) => s.what))],
  };
}
