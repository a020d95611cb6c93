import { createHash } from 'node:crypto';
import type { AccountType } from './account.js';
import type { PasswordPolicy } from './password-policy.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * When a password set at `changedAt` expires: at most the policy's maximum age, brought
 * forward by 0 … spreadDays−1 days, a shift fixed for each account (a hash of `seed`, its
 * codice fiscale). Passwords set on one day (an import, a first deployment, a policy change)
 * then expire over `spreadDays` days instead of on one (DOMAIN.md §10): with 60 days, no day
 * holds more than about 1/60 of them. Never later than the maximum age.
 */
export function passwordExpiresAt(
  policy: Pick<PasswordPolicy, 'maxAgeDays' | 'expirySpreadDays'>,
  accountType: AccountType,
  seed: string,
  changedAt: Date,
): Date {
  const maxAge = policy.maxAgeDays[accountType];
  // never a shift that makes a new password expire the day it is set (a change-page loop)
  const spread = Math.max(1, Math.min(Math.floor(policy.expirySpreadDays), maxAge));
  const shiftDays = createHash('sha256').update(seed).digest().readUInt32BE(0) % spread;
  return new Date(changedAt.getTime() + (maxAge - shiftDays) * DAY_MS);
}

/** A temporary password is born expired; refused at sign-in after this long. */
export const TEMPORARY_PASSWORD_LIFE_MS = 72 * 60 * 60 * 1000;
