/**
 * How many argon2 operations the server did: bench/server.ts calls countArgon2() in its own
 * process, bench/run.ts asks with argon2Counts(child) over the IPC channel.
 *
 * createServer takes argon2 parameters, not a hasher, so the count is taken one level lower:
 * src/accounts/password-hashing.ts calls `argon2.hash` / `argon2.verify` on the argon2
 * module's CommonJS exports object, looking the function up at every call, and an ESM
 * default import of that module is that same object. Wrapping the two functions there counts
 * every hash and verification the server makes, whichever code path asks for it (login,
 * change, history, the unknown-username dummy), without touching src/.
 */
import type { ChildProcess } from 'node:child_process';
import argon2 from 'argon2';

export interface Argon2Counts {
  hash: number;
  verify: number;
}

type Argon2Function = (...args: unknown[]) => Promise<unknown>;

/** In the server process, before it does any work; answers {type:'argon2-counts'}. */
export function countArgon2(): void {
  const counts: Argon2Counts = { hash: 0, verify: 0 };
  const exports = argon2 as unknown as Record<keyof Argon2Counts, Argon2Function>;
  for (const name of ['hash', 'verify'] as const) {
    const original = exports[name];
    exports[name] = function (this: unknown, ...args: unknown[]) {
      counts[name] += 1;
      return original.apply(this, args);
    };
  }
  process.on('message', (message: { type?: string }) => {
    if (message?.type === 'argon2-counts') process.send?.({ type: 'argon2-counts', counts });
  });
}

/** In the parent: the server's counts so far (cumulative; subtract two readings for a window). */
export function argon2Counts(child: ChildProcess, timeoutMs = 5000): Promise<Argon2Counts> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('message', onMessage);
      reject(new Error('the server did not answer argon2-counts'));
    }, timeoutMs);
    const onMessage = (message: { type?: string; counts?: Argon2Counts }) => {
      if (message?.type !== 'argon2-counts' || !message.counts) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(message.counts);
    };
    child.on('message', onMessage);
    child.send({ type: 'argon2-counts' });
  });
}

export function argon2Delta(before: Argon2Counts, after: Argon2Counts): Argon2Counts {
  return { hash: after.hash - before.hash, verify: after.verify - before.verify };
}
