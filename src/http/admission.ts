import { AsyncLocalStorage } from 'node:async_hooks';
import { randomInt } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type Koa from 'koa';
import PQueue from 'p-queue';
import { t } from '../i18n/index.js';

export interface AdmissionLimits {
  /** argon2id operations at once (each holds a libuv thread and a core) */
  concurrency: number;
  /** a new sign-in is turned away when the password work ahead of it would take longer than this */
  maxWaitMs: number;
  /** … or when the event loop lags more than this (mean of each second, two seconds in a row: a lasting lag, not one pause) */
  maxEventLoopDelayMs: number;
  /** the Retry-After given to those turned away, drawn in this range so that they do not all return at once */
  retryAfterSeconds: readonly [number, number];
}

/**
 * One core for each argon2id operation but one, kept for the event loop (JavaScript, PGlite,
 * TLS): with every core hashing, discovery and refreshes wait seconds under a stampede
 * (docs/benchmarks.md); and never the whole libuv pool, which files, DNS and zlib need too.
 */
const libuvThreads = Number(process.env.UV_THREADPOOL_SIZE) || 4;
export const DEFAULT_ADMISSION: AdmissionLimits = {
  concurrency: Math.max(1, Math.min(availableParallelism() - 1, libuvThreads - 1)),
  maxWaitMs: 1000,
  maxEventLoopDelayMs: 200,
  retryAfterSeconds: [120, 300],
};

export type Admission =
  | { admitted: true }
  | { admitted: false; reason: 'queue' | 'event_loop'; retryAfterSeconds: number };

export interface PasswordWorkStats {
  /** operations waiting for a slot */
  waiting: number;
  /** operations running */
  running: number;
  /** mean duration of one operation, ms (moving average) */
  meanOperationMs: number;
  /** expected wait of an operation queued now, ms */
  expectedWaitMs: number;
  /** mean event-loop delay over the last second, ms */
  eventLoopDelayMs: number;
  /** sign-ins turned away since start, by reason */
  shed: { queue: number; event_loop: number };
}

/** What one argon2id operation is assumed to cost before any has been timed. */
const FIRST_GUESS_MS = 50;
const SMOOTHING = 0.2;

/**
 * Admission control for the expensive work (issue 13, DOMAIN.md §10). Every argon2id
 * operation runs through one bounded queue (p-queue) sized from the machine's cores, so a
 * burst of sign-ins cannot take every core and every libuv thread from the cheap endpoints
 * (discovery, JWKS, refresh, userinfo never enter it). A new sign-in asks `admit()` first,
 * before any work is spent on it: when the work already queued would keep it waiting longer
 * than the bound, or the event loop lags, it is turned away with a Retry-After. Work of a
 * sign-in already admitted (the forced change after a login) runs inside `continuing()` and
 * goes ahead of new sign-ins, so what was admitted finishes first.
 */
export function createPasswordWorkQueue(limits: AdmissionLimits = DEFAULT_ADMISSION) {
  const queue = new PQueue({ concurrency: limits.concurrency });
  const priority = new AsyncLocalStorage<number>();
  const shed = { queue: 0, event_loop: 0 };
  let meanMs = FIRST_GUESS_MS;

  const RESOLUTION_MS = 10;
  const loop = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  let eventLoopDelayMs = 0;
  // seconds in a row whose mean delay passed the bound: one long pause (a GC) fills one
  // second at most, a lasting overload fills them all
  let laggingSeconds = 0;
  let sampler: NodeJS.Timeout | undefined;

  /** Starts watching the event loop; the server calls it once listening, after its start-up work. */
  function watchEventLoop(): void {
    if (sampler) return;
    loop.reset();
    loop.enable();
    sampler = setInterval(() => {
      // the histogram records each timer's whole interval: the delay is what exceeds the resolution
      eventLoopDelayMs = loop.count > 0 ? Math.max(0, loop.mean / 1e6 - RESOLUTION_MS) : 0;
      laggingSeconds = eventLoopDelayMs > limits.maxEventLoopDelayMs ? laggingSeconds + 1 : 0;
      loop.reset();
    }, 1000);
    sampler.unref();
  }

  const expectedWaitMs = () => ((queue.size + queue.pending) / limits.concurrency) * meanMs;

  function turnAway(reason: 'queue' | 'event_loop'): Admission {
    shed[reason] += 1;
    const [low, high] = limits.retryAfterSeconds;
    return { admitted: false, reason, retryAfterSeconds: randomInt(low, high + 1) };
  }

  return {
    /** Runs one argon2id operation when a slot is free; admitted sign-ins' work first. */
    run<T>(operation: () => Promise<T>): Promise<T> {
      return queue.add(async () => {
        const started = performance.now();
        try {
          return await operation();
        } finally {
          meanMs += SMOOTHING * (performance.now() - started - meanMs);
        }
      }, { priority: priority.getStore() ?? 0 }) as Promise<T>;
    },

    /** Whether a new sign-in may start now. Cheap: no work is spent to answer. */
    admit(): Admission {
      if (laggingSeconds >= 2) return turnAway('event_loop');
      if (expectedWaitMs() > limits.maxWaitMs) return turnAway('queue');
      return { admitted: true };
    },

    /** Runs `work` as part of a sign-in already admitted: its password work goes first. */
    continuing<T>(work: () => Promise<T>): Promise<T> {
      return priority.run(1, work);
    },

    stats(): PasswordWorkStats {
      return {
        waiting: queue.size,
        running: queue.pending,
        meanOperationMs: Math.round(meanMs * 10) / 10,
        expectedWaitMs: Math.round(expectedWaitMs()),
        eventLoopDelayMs: Math.round(eventLoopDelayMs * 10) / 10,
        shed: { ...shed },
      };
    },

    /** Resolves when no operation is queued or running. */
    idle: () => queue.onIdle(),

    watchEventLoop,

    close(): void {
      clearInterval(sampler);
      loop.disable();
    },
  };
}

export type PasswordWorkQueue = ReturnType<typeof createPasswordWorkQueue>;

/** Requests that start new password work: the authorization request of a browser with no SSO session, a registration's password, a reset's new password. */
export interface NewWorkRoute {
  method: string;
  path: RegExp;
  /** a request carrying this cookie continues something already admitted */
  unlessCookie?: string;
}

/**
 * Turns new sign-ins away, with an Italian page, 503 and a Retry-After (a JSON error for a
 * client that asks for JSON), while the password work queue or the event loop is past its
 * bound. The login form does the same in its own step, keeping the username typed. The
 * page is rendered once per wait announced: under a stampede most requests end here, and
 * each must cost next to nothing.
 */
export function shedNewWork(work: PasswordWorkQueue, routes: readonly NewWorkRoute[], renderPage: (minutes: number) => Promise<string>): Koa.Middleware {
  const pages = new Map<number, Promise<string>>();
  const page = (minutes: number) => {
    if (!pages.has(minutes)) pages.set(minutes, renderPage(minutes));
    return pages.get(minutes)!;
  };
  return async (ctx, next) => {
    const route = routes.find((r) => r.method === ctx.method && r.path.test(ctx.path));
    if (!route || (route.unlessCookie && ctx.cookies.get(route.unlessCookie))) return next();
    const admission = work.admit();
    if (admission.admitted) return next();
    const minutes = minutesOf(admission.retryAfterSeconds);
    ctx.status = 503;
    ctx.set('Retry-After', String(admission.retryAfterSeconds));
    ctx.state.unavailable = 'overload';
    if (ctx.accepts('html', 'json') === 'json') {
      ctx.body = { error: 'temporarily_unavailable', error_description: t('overload.message', { minutes }) };
      return;
    }
    ctx.type = 'html';
    ctx.body = await page(minutes);
  };
}

export const minutesOf = (seconds: number) => Math.max(1, Math.ceil(seconds / 60));
