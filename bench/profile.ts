/**
 * Where a sign-in's time goes, for when docs/benchmarks.md shows a missed target:
 *
 *   npx tsx bench/profile.ts [browsers=1] [seconds=10]
 *
 * Starts bench/server.ts under `node --cpu-prof`, runs the sign-in driver (1 browser: each
 * step's latency uncontended), stops the server so V8 writes its profile, then prints the
 * step timings, the server's CPU per sign-in and the main thread's self time grouped by
 * where the code lives (argon2 runs on the threadpool and is not in a V8 profile).
 * With PGlite it also counts and times the SQL statements. BENCH_PROFILE_OUT=<file> keeps the
 * .cpuprofile; BENCH_CPU_PROFILE=0 runs without the profiler (whose overhead inflates the times).
 * Traffic goes to 127.0.0.1 only; the server is always stopped.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { cpuSeconds, threadSplit } from './cpu.js';
import { BENCH_CLIENT_ID, BENCH_CLIENT_SECRET, BENCH_PASSWORD, BENCH_REDIRECT_URI, READY_PREFIX, type ReadyMessage } from './shared.js';
import { percentile, runSignIns, STEPS } from './signin.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Which part of the stack a frame belongs to, by the file it lives in. */
function area(url: string, name: string): string {
  if (!url) return name.startsWith('(') ? name : '(native)';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1]!;
  if (url.startsWith('node:')) return url.replace(/^node:(internal\/)?/, 'node:').split('/').slice(0, 2).join('/');
  const src = /\/(src|bench)\/(.+)$/.exec(url);
  if (src) return `${src[1]}/${src[2]!.split('/')[0]}`;
  return url;
}

async function main(): Promise<void> {
  const [browsers = 1, seconds = 10] = process.argv.slice(2).map(Number);
  const work = mkdtempSync(join(tmpdir(), 'iam-profile-'));
  const cpuProfile = process.env.BENCH_CPU_PROFILE !== '0';
  const flags = cpuProfile ? ['--cpu-prof', `--cpu-prof-dir=${join(work, 'prof')}`] : [];
  const child = spawn(process.execPath, [...flags, '--import', 'tsx', join(ROOT, 'bench/server.ts')], {
    cwd: ROOT,
    env: { ...process.env, BENCH_PGLITE_DIR: join(work, 'pglite'), BENCH_QUERY_STATS: process.env.DATABASE_URL ? '0' : '1' },
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const killer = () => child.kill('SIGKILL');
  process.on('exit', killer);
  try {
    const ready = await new Promise<ReadyMessage>((resolveReady, reject) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (line.startsWith(READY_PREFIX)) resolveReady(JSON.parse(line.slice(READY_PREFIX.length)) as ReadyMessage);
      });
      child.on('exit', (code) => reject(new Error(`server exited (${code})`)));
    });
    const target = {
      url: ready.url,
      clientId: BENCH_CLIENT_ID,
      clientSecret: BENCH_CLIENT_SECRET,
      redirectUri: BENCH_REDIRECT_URI,
      username: ready.username!,
      usernames: ready.usernames,
      password: BENCH_PASSWORD,
    };
    await runSignIns(target, browsers, 2); // warm-up
    child.send({ type: 'query-stats-reset' });
    const cpu0 = cpuSeconds(child.pid!);
    const threads0 = threadSplit(child.pid!);
    // V8 stamps profile samples with the monotonic clock, in µs, as process.hrtime does in ns
    const from = Number(process.hrtime.bigint() / 1000n);
    const result = await runSignIns(target, browsers, seconds);
    const to = Number(process.hrtime.bigint() / 1000n);
    const serverCpu = cpuSeconds(child.pid!) - cpu0;
    const threads1 = threadSplit(child.pid!);

    console.log(`${result.completed} sign-ins in ${result.seconds.toFixed(1)} s with ${browsers} browser(s): ${result.perSecond.toFixed(1)}/s, ${result.failed} failed`);
    console.log(`server CPU per sign-in (all threads): ${((serverCpu * 1000) / result.completed).toFixed(1)} ms`);
    const perSignIn = (seconds: number) => ((seconds * 1000) / result.completed).toFixed(1).padStart(6);
    console.log(`  main thread (event loop, PGlite)   ${perSignIn(threads1.main - threads0.main)} ms`);
    console.log(`  other threads (argon2 pool, V8)    ${perSignIn(threads1.others - threads0.others)} ms  (includes the profiler's own thread)`);
    console.log('\nstep        p50      p99     mean');
    for (const step of STEPS) {
      const v = result.steps[step] ?? [];
      const mean = v.reduce((a, b) => a + b, 0) / v.length;
      console.log(`${step.padEnd(10)} ${percentile(v, 50).toFixed(1).padStart(6)} ${percentile(v, 99).toFixed(1).padStart(8)} ${mean.toFixed(1).padStart(8)}  ms`);
    }

    if (!process.env.DATABASE_URL) {
      const stats = await new Promise<Record<string, { count: number; ms: number }>>((r) => {
        child.once('message', (m: { stats: Record<string, { count: number; ms: number }> }) => r(m.stats));
        child.send({ type: 'query-stats' });
      });
      const rows = Object.entries(stats).sort((a, b) => b[1].ms - a[1].ms);
      const all = rows.reduce((a, [, v]) => ({ count: a.count + v.count, ms: a.ms + v.ms }), { count: 0, ms: 0 });
      console.log(`\nPGlite queries (wall time on the event loop): ${(all.count / result.completed).toFixed(1)} per sign-in, ${(all.ms / result.completed).toFixed(2)} ms per sign-in`);
      for (const [sql, v] of rows.slice(0, 12)) {
        console.log(`  ${(v.count / result.completed).toFixed(2).padStart(5)} × ${(v.ms / v.count).toFixed(2).padStart(6)} ms  ${sql}`);
      }
    }
    await new Promise<void>((r) => {
      child.once('exit', () => r());
      child.kill('SIGTERM');
    });
    if (!cpuProfile) return;
    const file = readdirSync(join(work, 'prof')).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error('no profile written');
    const profile = JSON.parse(readFileSync(join(work, 'prof', file), 'utf8')) as CpuProfile;
    if (process.env.BENCH_PROFILE_OUT) {
      copyFileSync(join(work, 'prof', file), process.env.BENCH_PROFILE_OUT);
      console.log(`\nprofile copied to ${process.env.BENCH_PROFILE_OUT} (open it in Chrome DevTools → Performance); measured window: ${from}–${to} µs`);
    }
    report(profile, result.completed, from, to);
  } finally {
    killer();
    rmSync(work, { recursive: true, force: true });
  }
}

function report(profile: CpuProfile, signIns: number, from: number, to: number): void {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let at = profile.startTime;
  if (from < profile.startTime || from > profile.endTime) throw new Error('profile clock does not match process.hrtime');
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (at >= from && at <= to) self.set(id, (self.get(id) ?? 0) + delta);
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const idle = [...self].filter(([id]) => byId.get(id)!.callFrame.functionName === '(idle)').reduce((a, [, t]) => a + t, 0);

  const areas = new Map<string, number>();
  const functions = new Map<string, number>();
  for (const [id, t] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === '(idle)') continue;
    const a = area(url, functionName);
    areas.set(a, (areas.get(a) ?? 0) + t);
    const key = `${functionName || '(anonymous)'} ${a}${url ? `:${lineNumber + 1}` : ''}`;
    functions.set(key, (functions.get(key) ?? 0) + t);
  }
  const busy = total - idle;
  const ms = (us: number) => (us / 1000 / signIns).toFixed(2).padStart(7) + ' ms/sign-in';
  console.log(`\nmain thread: busy ${(busy / 1e6).toFixed(1)} s of ${(total / 1e6).toFixed(1)} s profiled = ${ms(busy)} (measured window only)`);
  console.log('\nself time by area:');
  for (const [a, t] of [...areas].sort((x, y) => y[1] - x[1]).slice(0, 20)) console.log(`  ${((100 * t) / busy).toFixed(1).padStart(5)} %  ${ms(t)}  ${a}`);
  console.log('\ntop functions (self time):');
  for (const [f, t] of [...functions].sort((x, y) => y[1] - x[1]).slice(0, 25)) console.log(`  ${((100 * t) / busy).toFixed(1).padStart(5)} %  ${f}`);
}

main().catch((error: unknown) => {
  console.error('bench/profile:', error);
  process.exit(1);
});
