/** CPU time of a process and of its threads, from Linux /proc (USER_HZ = 100 ticks per second). */
import { readdirSync, readFileSync } from 'node:fs';

const CLOCK_TICKS = 100;

/** CPU seconds used so far by a process (all its threads), or by one of its threads. NaN if gone. */
export function cpuSeconds(pid: number, tid?: number): number {
  try {
    const stat = readFileSync(tid ? `/proc/${pid}/task/${tid}/stat` : `/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS; // utime + stime
  } catch {
    return NaN;
  }
}

/**
 * CPU seconds of the main thread (the event loop: JavaScript, and PGlite's WebAssembly) and of
 * all the other threads together (libuv's threadpool, where argon2 runs, and V8's helpers).
 */
export function threadSplit(pid: number): { main: number; others: number } {
  let others = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      if (Number(tid) === pid) continue;
      const spent = cpuSeconds(pid, Number(tid));
      if (Number.isFinite(spent)) others += spent;
    }
  } catch {
    return { main: NaN, others: NaN };
  }
  return { main: cpuSeconds(pid, pid), others };
}

/** The whole machine's CPU seconds so far (all cores): busy, and stolen by the hypervisor. */
export function machineCpu(): { busy: number; steal: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).slice(1).map(Number);
  return { busy: (user + nice + system + irq + softirq) / CLOCK_TICKS, steal: steal / CLOCK_TICKS };
}

/** CPU seconds used so far by every process with one of these command names (e.g. postgres, redis-server). */
export function processesCpu(names: readonly string[]): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (!names.includes(name)) continue;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
    } catch {
      // the process ended meanwhile
    }
  }
  return total;
}
