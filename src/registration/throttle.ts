import type { RedisClient } from '../adapters/redis-client.js';
import { createRecoveryThrottle, type RecoveryLimits, type RecoveryThrottle } from '../recovery/throttle.js';

/**
 * Self-registration's counters, the recovery throttle's mechanism under keys of their own:
 * per address, one point per attempt started and per code sent; per e-mail address, one per
 * code sent to it (bounds the mail one mailbox can be sent).
 */
export type RegistrationLimits = RecoveryLimits;

export const DEFAULT_REGISTRATION_LIMITS: RegistrationLimits = {
  perIp: { requests: 30, windowSeconds: 60 * 60 },
  perSubject: { requests: 5, windowSeconds: 60 * 60 },
};

export function createRegistrationThrottle(options: { redis?: RedisClient; keyPrefix?: string; limits?: RegistrationLimits } = {}): RecoveryThrottle {
  return createRecoveryThrottle({ redis: options.redis, keyPrefix: options.keyPrefix ?? 'iam:registration:', limits: options.limits ?? DEFAULT_REGISTRATION_LIMITS });
}
