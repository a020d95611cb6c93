import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract, type RateLimiterRes } from 'rate-limiter-flexible';
import { addressGroup } from '../http/client-address.js';

export interface ThrottleLimits {
  /** failures allowed for one username from one address within the window */
  perUsernameAndIp: { failures: number; windowSeconds: number };
  /** failures allowed for one username from anywhere: reaching it locks the account */
  perUsername: { failures: number; windowSeconds: number };
  /** failures allowed from one address, whatever the usernames */
  perIp: { failures: number; windowSeconds: number };
}

export const DEFAULT_THROTTLE_LIMITS: ThrottleLimits = {
  perUsernameAndIp: { failures: 5, windowSeconds: 15 * 60 },
  perUsername: { failures: 10, windowSeconds: 15 * 60 },
  perIp: { failures: 100, windowSeconds: 60 * 60 },
};

export type ThrottleScope = 'username_ip' | 'username' | 'ip';

/** The outcome of taking an attempt's point before the password is checked. */
export type ThrottleTicket =
  | { allowed: true; /** set when this attempt took the username's last point: a wrong password locks the account until then */ lockIfWrong?: Date }
  | { allowed: false; scope: ThrottleScope; retryAfterSeconds: number };

export interface LoginAttempt {
  username: string;
  ip: string;
}

export interface LoginThrottle {
  /**
   * Counts the attempt in every counter at once, before any password work: a burst of
   * parallel attempts cannot all pass a check that reads first and writes after.
   */
  take(attempt: LoginAttempt): Promise<ThrottleTicket>;
  /** A correct password: the username's counters start again and the address gets its point back. */
  succeeded(attempt: LoginAttempt): Promise<void>;
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
 */
export function createLoginThrottle(options: { redis?: Redis; keyPrefix?: string; limits?: ThrottleLimits } = {}): LoginThrottle {
  const limits = options.limits ?? DEFAULT_THROTTLE_LIMITS;
  const prefix = options.keyPrefix ?? 'iam:throttle:';
  const limiter = (name: string, { failures, windowSeconds }: { failures: number; windowSeconds: number }) =>
    options.redis
      ? new RateLimiterRedis({ storeClient: options.redis, keyPrefix: prefix + name, points: failures, duration: windowSeconds })
      : new RateLimiterMemory({ keyPrefix: prefix + name, points: failures, duration: windowSeconds });

  const usernameAndIp: Counter = { scope: 'username_ip', limiter: limiter('user-ip', limits.perUsernameAndIp), key: (a) => `${normal(a.username)}|${addressGroup(a.ip)}` };
  const username: Counter = { scope: 'username', limiter: limiter('user', limits.perUsername), key: (a) => normal(a.username) };
  const ip: Counter = { scope: 'ip', limiter: limiter('ip', limits.perIp), key: (a) => addressGroup(a.ip) };
  const counters = [usernameAndIp, username, ip];

  return {
    async take(attempt) {
      // consume() increments atomically (in Redis, one INCR): each parallel attempt gets its own count
      const outcomes = await Promise.all(
        counters.map(({ limiter: l, key }) => l.consume(key(attempt)).then(
          (result) => ({ over: false, result }),
          (rejection: unknown) => ({ over: true, result: overLimitOrThrow(rejection) }),
        )),
      );
      const blocking = outcomes.flatMap((o, i) => (o.over ? [{ counter: counters[i]!, ms: o.result.msBeforeNext }] : []));
      if (blocking.length === 0) {
        const perUsername = outcomes[1]!.result;
        return perUsername.consumedPoints === limits.perUsername.failures
          ? { allowed: true, lockIfWrong: new Date(Date.now() + perUsername.msBeforeNext) }
          : { allowed: true };
      }
      // A refused attempt checks nothing, so it counts nowhere: every counter gets its point
      // back, the ones that refused it too (they stay at their limit). Otherwise a burst from
      // one address would fill the per-username counter and shut the owner out everywhere.
      await Promise.all(counters.map(({ limiter: l, key }) => l.reward(key(attempt), 1)));
      const worst = blocking.reduce((a, b) => (b.ms > a.ms ? b : a));
      return { allowed: false, scope: worst.counter.scope, retryAfterSeconds: Math.max(1, Math.ceil(worst.ms / 1000)) };
    },

    async succeeded(attempt) {
      await Promise.all([
        usernameAndIp.limiter.delete(usernameAndIp.key(attempt)),
        username.limiter.delete(username.key(attempt)),
        ip.limiter.reward(ip.key(attempt), 1),
      ]);
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
