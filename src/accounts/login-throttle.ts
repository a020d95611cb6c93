import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract } from 'rate-limiter-flexible';

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
export type ThrottleVerdict = { blocked: false } | { blocked: true; scope: ThrottleScope; retryAfterSeconds: number };

export interface LoginAttempt {
  username: string;
  ip: string;
}

export interface LoginThrottle {
  check(attempt: LoginAttempt): Promise<ThrottleVerdict>;
  /** Counts a failure; `lockedUntil` is set when this failure reached the per-username limit. */
  recordFailure(attempt: LoginAttempt): Promise<{ lockedUntil?: Date }>;
  recordSuccess(attempt: LoginAttempt): Promise<void>;
}

/**
 * Counters are keyed by the typed username whether or not an account has it,
 * so a blocked unknown username looks exactly like a blocked real one.
 */
export function createLoginThrottle(options: { redis?: Redis; keyPrefix?: string; limits?: ThrottleLimits } = {}): LoginThrottle {
  const limits = options.limits ?? DEFAULT_THROTTLE_LIMITS;
  const prefix = options.keyPrefix ?? 'iam:throttle:';
  const limiter = (name: string, { failures, windowSeconds }: { failures: number; windowSeconds: number }) =>
    options.redis
      ? new RateLimiterRedis({ storeClient: options.redis, keyPrefix: prefix + name, points: failures, duration: windowSeconds })
      : new RateLimiterMemory({ keyPrefix: prefix + name, points: failures, duration: windowSeconds });

  const limiters: Array<{ scope: ThrottleScope; limiter: RateLimiterAbstract; key: (a: LoginAttempt) => string }> = [
    { scope: 'username_ip', limiter: limiter('user-ip', limits.perUsernameAndIp), key: (a) => `${normal(a.username)}|${a.ip}` },
    { scope: 'username', limiter: limiter('user', limits.perUsername), key: (a) => normal(a.username) },
    { scope: 'ip', limiter: limiter('ip', limits.perIp), key: (a) => a.ip },
  ];

  return {
    async check(attempt) {
      const states = await Promise.all(limiters.map(({ limiter: l, key }) => l.get(key(attempt))));
      let verdict: ThrottleVerdict = { blocked: false };
      states.forEach((state, i) => {
        const { scope, limiter: l } = limiters[i]!;
        if (state && state.consumedPoints >= l.points) {
          const retryAfterSeconds = Math.max(1, Math.ceil(state.msBeforeNext / 1000));
          if (!verdict.blocked || retryAfterSeconds > verdict.retryAfterSeconds) verdict = { blocked: true, scope, retryAfterSeconds };
        }
      });
      return verdict;
    },

    async recordFailure(attempt) {
      const results = await Promise.all(
        limiters.map(({ limiter: l, key }) => l.consume(key(attempt)).catch(overLimitOrThrow)),
      );
      const perUsername = results[1] as { consumedPoints: number; msBeforeNext: number } | undefined;
      if (perUsername && perUsername.consumedPoints === limits.perUsername.failures) {
        return { lockedUntil: new Date(Date.now() + perUsername.msBeforeNext) };
      }
      return {};
    },

    async recordSuccess(attempt) {
      await Promise.all(limiters.slice(0, 2).map(({ limiter: l, key }) => l.delete(key(attempt))));
    },
  };
}

// rate-limiter-flexible rejects with its result when over the limit, and with an Error when the store fails.
function overLimitOrThrow(rejection: unknown): unknown {
  if (rejection instanceof Error) throw rejection;
  return rejection;
}

function normal(username: string): string {
  return username.trim().toLowerCase();
}
