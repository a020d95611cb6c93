/**
 * The argon2id ceiling: how many argon2.verify per second this machine does with the parameters
 * the server uses (OWASP_ARGON2ID), through the same libuv threadpool (UV_THREADPOOL_SIZE is
 * inherited, as the server inherits it) and with as many verifications in flight as the
 * sign-in driver has browsers. Runs in its own process; prints one JSON line.
 *
 *   node --import tsx bench/argon2-ceiling.ts <concurrency> <warmupSeconds> <seconds>
 */
import argon2 from 'argon2';
import { OWASP_ARGON2ID } from '../src/accounts/password-hashing.js';
import { machineCpu } from './cpu.js';
import { BENCH_PASSWORD, describeThreadpool } from './shared.js';

async function run(concurrency: number, seconds: number, hash: string): Promise<{ verifies: number; failures: number; elapsed: number; latencies: number[] }> {
  const latencies: number[] = [];
  let failures = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const loop = async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      const ok = await argon2.verify(hash, BENCH_PASSWORD);
      if (!ok) failures += 1;
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  return { verifies: latencies.length, failures, elapsed: (performance.now() - started) / 1000, latencies };
}

async function main(): Promise<void> {
  const [concurrency = 8, warmup = 2, seconds = 10] = process.argv.slice(2).map(Number);
  const hash = await argon2.hash(BENCH_PASSWORD, { type: argon2.argon2id, ...OWASP_ARGON2ID });
  if (warmup > 0) await run(concurrency, warmup, hash);
  const own0 = process.cpuUsage();
  const machine0 = machineCpu();
  const result = await run(concurrency, seconds, hash);
  const machine1 = machineCpu();
  const own = process.cpuUsage(own0);
  const sorted = result.latencies.sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
  // a single verification, nothing else running: the cost of one
  const t0 = performance.now();
  await argon2.verify(hash, BENCH_PASSWORD);
  const single = performance.now() - t0;
  process.stdout.write(
    JSON.stringify({
      parameters: OWASP_ARGON2ID,
      concurrency,
      threadpool: describeThreadpool(),
      verifies: result.verifies,
      failures: result.failures,
      seconds: result.elapsed,
      perSecond: result.verifies / result.elapsed,
      p50: at(50),
      p99: at(99),
      singleMs: single,
      // CPU seconds in the measured window: this process (all threads) and the whole machine
      cpu: { own: (own.user + own.system) / 1e6, machine: machine1.busy - machine0.busy, steal: machine1.steal - machine0.steal },
    }) + '\n',
  );
}

main().catch((error: unknown) => {
  console.error('bench/argon2-ceiling:', error);
  process.exit(1);
});
