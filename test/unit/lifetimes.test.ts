import { LIFETIME_PROFILES, lifetimesOf, refreshTokenTtl } from '../../src/services/lifetimes.js';

const DAY = 86400;

describe('token lifetimes', () => {
  it('take the profile of the service where it sets none', () => {
    expect(lifetimesOf({ firstParty: true })).toEqual(LIFETIME_PROFILES.ministry);
    expect(lifetimesOf({ firstParty: false })).toEqual(LIFETIME_PROFILES.partner);
    expect(lifetimesOf({ firstParty: false, tokenLifetimes: { accessToken: 120 } })).toEqual({ ...LIFETIME_PROFILES.partner, accessToken: 120 });
  });

  it('never let a refresh token idle past the absolute lifetime', () => {
    expect(lifetimesOf({ firstParty: true, tokenLifetimes: { refreshTokenIdle: 20 * DAY, refreshTokenAbsolute: 10 * DAY } }).refreshTokenIdle).toBe(10 * DAY);
  });

  it('cut a rotated refresh token short where the chain ends', () => {
    const lifetimes = lifetimesOf({ firstParty: true, tokenLifetimes: { refreshTokenIdle: 2 * DAY, refreshTokenAbsolute: 3 * DAY } });
    const now = 1_000_000_000;
    expect(refreshTokenTtl(lifetimes, now, now)).toBe(2 * DAY);
    expect(refreshTokenTtl(lifetimes, now - 2 * DAY, now)).toBe(DAY);
    // past the end: the shortest life the provider accepts, never "forever"
    expect(refreshTokenTtl(lifetimes, now - 4 * DAY, now)).toBe(1);
  });
});
