import type { RedisClient } from '../adapters/redis-client.js';
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract, type RateLimiterRes } from 'rate-limiter-flexible';
import { addressGroup } from '../http/client-address.js';

export interface RecoveryLimits {
  /** requests from one address (IPv4, or IPv6 /64), both forms together */
  perIp: { requests: number; windowSeconds: number };
  /** requests naming one username or one codice fiscale, from anywhere: bounds the mail one person can be sent */
  perSubject: { requests: number; windowSeconds: number };
}

export const DEFAULT_RECOVERY_LIMITS: RecoveryLimits = {
  perIp: { requests: 30, windowSeconds: 60 * 60 },
  perSubject: { requests: 5, windowSeconds: 60 * 60 },
};

export type RecoveryTicket = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export interface RecoveryThrottle {
  /**
   * Takes one point from the address and from each subject (typed username, codice fiscale),
   * atomically per counter, before any lookup. Subjects are what was typed, whether or not an
   * account has them, so a refusal says nothing about accounts.
   */
  take(request: { ip: string; subjects: string[] }): Promise<RecoveryTicket>;
}

export function createRecoveryThrottle(options: { redis?: RedisClient; keyPrefix?: string; limits?: RecoveryLimits } = {}): RecoveryThrottle {
  const limits = options.limits ?? DEFAULT_RECOVERY_LIMITS;
  const prefix = options.keyPrefix ?? 'iam:recovery:';
  const limiter = (name: string, { requests, windowSeconds }: { requests: number; windowSeconds: number }): RateLimiterAbstract =>
    options.redis
      ? new RateLimiterRedis({ storeClient: options.redis, keyPrefix: prefix + name, points: requests, duration: windowSeconds })
      : new RateLimiterMemory({ keyPrefix: prefix + name, points: requests, duration: windowSeconds });
  const perIp = limiter('ip', limits.perIp);
  const perSubject = limiter('subject', limits.perSubject);

  return {
    async take({ ip, subjects }) {
      const points = [
        { limiter: perIp, key: addressGroup(ip) },
        ...[...new Set(subjects)].map((subject) => ({ limiter: perSubject, key: subject })),
      ];
      const outcomes = await Promise.all(points.map(({ limiter: l, key }) => l.consume(key).then(
        (result) => ({ over: false, result }),
        (rejection: unknown) => ({ over: true, result: overLimitOrThrow(rejection) }),
      )));
      const refusing = outcomes.filter((o) => o.over);
      if (refusing.length === 0) return { allowed: true };
      // a refused request does nothing: the counters that let it through get their point back
      await Promise.all(outcomes.map((o, i) => (o.over ? undefined : points[i]!.limiter.reward(points[i]!.key, 1))));
      const ms = Math.max(...refusing.map((o) => o.result.msBeforeNext));
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(ms / 1000)) };
    },
  };
}

// rate-limiter-flexible rejects with its result when over the limit, and with an Error when the store fails.
function overLimitOrThrow(rejection: unknown): RateLimiterRes {
  if (rejection instanceof Error) throw rejection;
  return rejection as RateLimiterRes;
}
