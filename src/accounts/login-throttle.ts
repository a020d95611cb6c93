import type { RedisClient } from '../adapters/redis-client.js';
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract, type RateLimiterRes } from 'rate-limiter-flexible';
import { addressGroup } from '../http/client-address.js';

export interface ThrottleLimits {
  /** failures allowed for one username from one address within the window (browsers not known to the account) */
  perUsernameAndIp: { failures: number; windowSeconds: number };
  /** failures allowed for one username from browsers not known to it: the rung of the lockout ladder */
  perUsername: { failures: number; windowSeconds: number };
  /** failures allowed from one address, whatever the usernames */
  perIp: { failures: number; windowSeconds: number };
  /** failures allowed from one browser known to the account (its device cookie) */
  perDevice?: { failures: number; windowSeconds: number };
  /** the first lock; the second within a day lasts until the owner follows the unlock link (`unlockSeconds`) */
  lockSeconds?: number;
  unlockSeconds?: number;
}

/** The LepidaID ladder for SPID: 5 failures → 30 minutes; 5 more → until the unlock link (valid 3 days). */
export const DEFAULT_THROTTLE_LIMITS: ThrottleLimits = {
  perUsernameAndIp: { failures: 5, windowSeconds: 15 * 60 },
  perUsername: { failures: 5, windowSeconds: 24 * 60 * 60 },
  perIp: { failures: 100, windowSeconds: 60 * 60 },
  perDevice: { failures: 5, windowSeconds: 30 * 60 },
  lockSeconds: 30 * 60,
  unlockSeconds: 3 * 24 * 60 * 60,
};

/** Locks counted within this long make the ladder's second rung. */
const STRIKES_WINDOW_SECONDS = 24 * 60 * 60;

export type ThrottleScope = 'username_ip' | 'username' | 'ip' | 'device';

/** The outcome of taking an attempt's point before the password is checked. */
export type ThrottleTicket =
  | { allowed: true; /** this attempt took the username's last point: a wrong password climbs the ladder */ lockIfWrong?: boolean }
  | { allowed: false; scope: ThrottleScope; retryAfterSeconds: number; /** locked until the owner follows the unlock link */ unlockRequired: boolean };

export interface LoginAttempt {
  username: string;
  ip: string;
  /** the id of this browser's device cookie for this username, when it has one */
  device?: string;
}

/** A rung of the ladder reached: how long the username stays locked for unknown browsers. */
export interface LadderLock {
  level: 1 | 2;
  until: Date;
}

export interface LoginThrottle {
  /**
   * Counts the attempt in every counter at once, before any password work: a burst of
   * parallel attempts cannot all pass a check that reads first and writes after.
   */
  take(attempt: LoginAttempt): Promise<ThrottleTicket>;
  /** A wrong password on the ticket that took the username's last point: the next rung. */
  lock(attempt: LoginAttempt): Promise<LadderLock>;
  /** A correct password: the username's counters, locks included, start again and the address gets its point back. */
  succeeded(attempt: LoginAttempt): Promise<void>;
  /** Whether the username is locked for browsers it does not know, and until when. */
  lockState(username: string): Promise<UsernameLock | null>;
  /**
   * A reset by someone else (an officer, an administrator): the username's lock and ladder
   * start again. The per-address counters stay: the owner's address is not known here, and
   * they lapse within their window (15 minutes).
   */
  unlock(username: string): Promise<void>;
}

export interface UsernameLock {
  until: Date;
  /** the ladder's second rung: only a new password (the unlock link, an officer's reset) opens it */
  unlockRequired: boolean;
}

interface Counter {
  scope: ThrottleScope;
  limiter: RateLimiterAbstract;
  key: (a: LoginAttempt) => string;
}

/**
 * Counters are keyed by the typed username whether or not an account has it, so a
 * blocked unknown username looks exactly like a blocked real one. Addresses are
 * counted by group (an IPv6 /64), as one subscriber holds the whole group.
 *
 * A browser that signed in to the account before carries a device cookie (OWASP's
 * scheme): its attempts are counted on their own counter and never meet the username's
 * lock, so whoever guesses from elsewhere cannot keep the owner out.
 */
export function createLoginThrottle(options: { redis?: RedisClient; keyPrefix?: string; limits?: ThrottleLimits } = {}): LoginThrottle {
  const limits = { ...DEFAULT_THROTTLE_LIMITS, ...options.limits };
  const lockSeconds = limits.lockSeconds ?? DEFAULT_THROTTLE_LIMITS.lockSeconds!;
  const unlockSeconds = limits.unlockSeconds ?? DEFAULT_THROTTLE_LIMITS.unlockSeconds!;
  const prefix = options.keyPrefix ?? 'iam:throttle:';
  const limiter = (name: string, { failures, windowSeconds }: { failures: number; windowSeconds: number }) =>
    options.redis
      ? new RateLimiterRedis({ storeClient: options.redis, keyPrefix: prefix + name, points: failures, duration: windowSeconds })
      : new RateLimiterMemory({ keyPrefix: prefix + name, points: failures, duration: windowSeconds });

  const usernameAndIp: Counter = { scope: 'username_ip', limiter: limiter('user-ip', limits.perUsernameAndIp), key: (a) => `${normal(a.username)}|${addressGroup(a.ip)}` };
  const username: Counter = { scope: 'username', limiter: limiter('user', limits.perUsername), key: (a) => normal(a.username) };
  const ip: Counter = { scope: 'ip', limiter: limiter('ip', limits.perIp), key: (a) => addressGroup(a.ip) };
  const device: Counter = { scope: 'device', limiter: limiter('device', limits.perDevice ?? DEFAULT_THROTTLE_LIMITS.perDevice!), key: (a) => `${a.device}|${normal(a.username)}` };
  // locks within a day (the ladder's rungs), and the mark of the second rung
  const strikes = limiter('strikes', { failures: 1000, windowSeconds: STRIKES_WINDOW_SECONDS });
  const unlockMark = limiter('unlock', { failures: 1, windowSeconds: unlockSeconds });
  const countersFor = (a: LoginAttempt) => (a.device ? [device, ip] : [usernameAndIp, username, ip]);

  return {
    async take(attempt) {
      const counters = countersFor(attempt);
      // consume() increments atomically (in Redis, one INCR): each parallel attempt gets its own count
      const outcomes = await Promise.all(
        counters.map(({ limiter: l, key }) => l.consume(key(attempt)).then(
          (result) => ({ over: false, result }),
          (rejection: unknown) => ({ over: true, result: overLimitOrThrow(rejection) }),
        )),
      );
      const blocking = outcomes.flatMap((o, i) => (o.over ? [{ counter: counters[i]!, ms: o.result.msBeforeNext }] : []));
      if (blocking.length === 0) {
        const rung = !attempt.device && outcomes[1]!.result.consumedPoints === limits.perUsername.failures;
        return rung ? { allowed: true, lockIfWrong: true } : { allowed: true };
      }
      // A refused attempt checks nothing, so it counts nowhere: every counter gets its point
      // back, the ones that refused it too (they stay at their limit). Otherwise a burst from
      // one address would fill the per-username counter and shut the owner out everywhere.
      await Promise.all(counters.map(({ limiter: l, key }) => l.reward(key(attempt), 1)));
      const worst = blocking.reduce((a, b) => (b.ms > a.ms ? b : a));
      const unlockRequired = worst.counter === username && (await unlockMark.get(username.key(attempt))) !== null;
      return { allowed: false, scope: worst.counter.scope, retryAfterSeconds: Math.max(1, Math.ceil(worst.ms / 1000)), unlockRequired };
    },

    async lock(attempt) {
      const key = username.key(attempt);
      const strike = await strikes.consume(key).catch(overLimitOrThrow);
      const level = strike.consumedPoints >= 2 ? 2 : 1;
      const seconds = level === 2 ? unlockSeconds : lockSeconds;
      if (level === 2) await unlockMark.block(key, seconds);
      // the username's counter refuses every attempt from unknown browsers until then; when
      // the first lock lapses it counts from zero again, towards the second rung
      await username.limiter.block(key, seconds);
      return { level, until: new Date(Date.now() + seconds * 1000) };
    },

    async succeeded(attempt) {
      const key = username.key(attempt);
      await Promise.all([
        usernameAndIp.limiter.delete(usernameAndIp.key(attempt)),
        username.limiter.delete(key),
        strikes.delete(key),
        unlockMark.delete(key),
        ...(attempt.device ? [device.limiter.delete(device.key(attempt))] : []),
        ip.limiter.reward(ip.key(attempt), 1),
      ]);
    },

    async lockState(name) {
      const key = normal(name);
      const counted = await username.limiter.get(key);
      if (!counted || counted.consumedPoints <= limits.perUsername.failures) return null;
      return { until: new Date(Date.now() + counted.msBeforeNext), unlockRequired: (await unlockMark.get(key)) !== null };
    },

    async unlock(name) {
      const key = normal(name);
      await Promise.all([username.limiter.delete(key), strikes.delete(key), unlockMark.delete(key)]);
    },
  };
}

// rate-limiter-flexible rejects with its result when over the limit, and with an Error when the store fails.
function overLimitOrThrow(rejection: unknown): RateLimiterRes {
  if (rejection instanceof Error) throw rejection;
  return rejection as RateLimiterRes;
}

function normal(username: string): string {
  return username.trim().toLowerCase();
}
