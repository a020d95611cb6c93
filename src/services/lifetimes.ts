import { z } from 'zod';

const MINUTE = 60;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** How long a service's tokens live, in seconds. */
export interface TokenLifetimes {
  accessToken: number;
  idToken: number;
  /** each refresh token: unused this long, it lapses (a rotated one starts again) */
  refreshTokenIdle: number;
  /** the chain of rotated refresh tokens ends this long after the sign-in that began it */
  refreshTokenAbsolute: number;
}

/**
 * The defaults by profile. The ministry's own services keep a working day's comfort; a
 * partner's get the short tokens the Italian OIDC profile (SPID/CIE) expects of third parties.
 */
export const LIFETIME_PROFILES = {
  ministry: { accessToken: 10 * MINUTE, idToken: 10 * MINUTE, refreshTokenIdle: 14 * DAY, refreshTokenAbsolute: 30 * DAY },
  partner: { accessToken: 5 * MINUTE, idToken: 5 * MINUTE, refreshTokenIdle: 7 * DAY, refreshTokenAbsolute: 30 * DAY },
} as const satisfies Record<string, TokenLifetimes>;

export type LifetimeProfile = keyof typeof LIFETIME_PROFILES;

export const LIFETIME_BOUNDS: Record<keyof TokenLifetimes, { min: number; max: number }> = {
  accessToken: { min: MINUTE, max: HOUR },
  idToken: { min: MINUTE, max: HOUR },
  refreshTokenIdle: { min: HOUR, max: 90 * DAY },
  refreshTokenAbsolute: { min: HOUR, max: 365 * DAY },
};

const seconds = (key: keyof TokenLifetimes) =>
  z
    .number()
    .int('must be a whole number of seconds')
    .min(LIFETIME_BOUNDS[key].min, `must be at least ${LIFETIME_BOUNDS[key].min} seconds`)
    .max(LIFETIME_BOUNDS[key].max, `must be at most ${LIFETIME_BOUNDS[key].max} seconds`)
    .optional();

/** What a service sets of its lifetimes; what it leaves out comes from its profile. */
export const tokenLifetimesSchema = z
  .object({
    accessToken: seconds('accessToken'),
    idToken: seconds('idToken'),
    refreshTokenIdle: seconds('refreshTokenIdle'),
    refreshTokenAbsolute: seconds('refreshTokenAbsolute'),
  })
  .strict();

export type TokenLifetimeSettings = z.infer<typeof tokenLifetimesSchema>;

export const profileOf = (service: { firstParty: boolean }): LifetimeProfile => (service.firstParty ? 'ministry' : 'partner');

/** The lifetimes a service's tokens get: its own where set, its profile's elsewhere. */
export function lifetimesOf(service: { firstParty: boolean; tokenLifetimes?: TokenLifetimeSettings }): TokenLifetimes {
  const own = Object.fromEntries(Object.entries(service.tokenLifetimes ?? {}).filter(([, v]) => v !== undefined));
  const lifetimes = { ...LIFETIME_PROFILES[profileOf(service)], ...own };
  return { ...lifetimes, refreshTokenIdle: Math.min(lifetimes.refreshTokenIdle, lifetimes.refreshTokenAbsolute) };
}

/**
 * A refresh token's life: its idle lifetime, cut short where the chain's absolute lifetime
 * ends (`iiat` is when the first token of the chain was issued; rotation carries it over).
 */
export function refreshTokenTtl(lifetimes: TokenLifetimes, firstIssuedAt: number, now: number): number {
  return Math.max(1, Math.min(lifetimes.refreshTokenIdle, firstIssuedAt + lifetimes.refreshTokenAbsolute - now));
}
