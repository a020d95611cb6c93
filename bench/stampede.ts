/**
 * The stampede (issue 13, DOMAIN.md §10): new sign-ins offered at a fixed rate, open loop —
 * each starts on time whatever happened to the others, as people do when an e-mail sends
 * them all to sign in — for a fixed time, while the server's resident memory is sampled every
 * 250 ms (discovery is probed from a process of its own: bench/discovery-probe.ts).
 *
 * A sign-in is `completed` (ID token received), `shed` (a 503 at some step: turned away by
 * admission control), or `failed` (anything else). Every request's time is kept, to check
 * that each got an answer quickly, and every status, to check that no 5xx but 503 came.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { freshAccount, signInOnce, StepError, type SignInTarget } from './signin.js';

export interface StampedeResult {
  offeredPerSecond: number;
  seconds: number;
  offered: number;
  completed: number;
  shed: number;
  failed: number;
  failures: Record<string, number>;
  completedPerSecond: number;
  /** whole sign-ins that completed, ms */
  completedLatencies: number[];
  /** every request of every sign-in, ms */
  requestLatencies: number[];
  statuses: Record<string, number>;
  peakRssBytes: number;
  /** resident memory once the wave has passed and the server is idle again */
  rssAfterBytes: number;
}

/** VmRSS of a process, bytes (Linux). */
export function residentBytes(pid: number): number {
  const line = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return line ? Number(line[1]) * 1024 : 0;
}

export async function runStampede(
  target: SignInTarget,
  options: { offeredPerSecond: number; seconds: number; serverPid: number; headersFor?: (n: number) => Record<string, string> },
): Promise<StampedeResult> {
  // every request its own connection if need be: a client-side queue would hide the server's answers
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  const usernames = target.usernames?.length ? target.usernames : [target.username];
  const result: StampedeResult = {
    offeredPerSecond: options.offeredPerSecond,
    seconds: options.seconds,
    offered: 0,
    completed: 0,
    shed: 0,
    failed: 0,
    failures: {},
    completedPerSecond: 0,
    completedLatencies: [],
    requestLatencies: [],
    statuses: {},
    peakRssBytes: 0,
    rssAfterBytes: 0,
  };
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  const flows: Promise<void>[] = [];
  const observe = (_step: unknown, ms: number, status: number) => {
    result.requestLatencies.push(ms);
    result.statuses[status] = (result.statuses[status] ?? 0) + 1;
  };

  const one = async (n: number) => {
    const t0 = performance.now();
    try {
      await signInOnce(target, {}, freshAccount(usernames[n % usernames.length]!, target.password), { observe, agent, headers: options.headersFor?.(n) });
      result.completed += 1;
      result.completedLatencies.push(performance.now() - t0);
    } catch (error) {
      const what = error instanceof StepError ? `${error.step} ${error.what}` : `error ${(error as Error).message}`;
      if (error instanceof StepError && error.what === '503') result.shed += 1;
      else {
        result.failed += 1;
        result.failures[what] = (result.failures[what] ?? 0) + 1;
      }
    }
  };

  const memory = setInterval(() => {
    result.peakRssBytes = Math.max(result.peakRssBytes, residentBytes(options.serverPid));
  }, 250);

  // open loop: the n-th sign-in starts at started + n / rate, late ones start at once
  const interval = 1000 / options.offeredPerSecond;
  for (let n = 0; performance.now() < deadline; n++) {
    const due = started + n * interval;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    if (performance.now() >= deadline) break;
    result.offered += 1;
    flows.push(one(n));
  }
  await Promise.all(flows);
  clearInterval(memory);
  result.completedPerSecond = result.completed / options.seconds;
  await new Promise((resolve) => setTimeout(resolve, 2000));
  result.rssAfterBytes = residentBytes(options.serverPid);
  agent.destroy();
  return result;
}
