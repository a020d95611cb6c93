import { randomBytes } from 'node:crypto';
import { passwordExpiresAt } from '../../src/accounts/password-expiry.js';
import { SPID_LEVEL_1_POLICY as spid } from '../../src/accounts/password-policy.js';

const DAY = 24 * 60 * 60 * 1000;
const importDay = new Date('2027-03-01T08:00:00Z');

describe('password expiry', () => {
  it('spreads the expiries of 100,000 passwords set on one day: no calendar day holds more than 2 %', () => {
    const perDay = new Map<string, number>();
    for (let i = 0; i < 100_000; i++) {
      const seed = randomBytes(8).toString('hex').toUpperCase(); // stands for a codice fiscale
      const day = passwordExpiresAt(spid, i % 3 ? 'standard' : 'mi', seed, importDay).toISOString().slice(0, 10);
      perDay.set(day, (perDay.get(day) ?? 0) + 1);
    }
    const busiest = Math.max(...perDay.values());
    expect(busiest / 100_000).toBeLessThanOrEqual(0.02);
    expect(perDay.size).toBe(spid.expirySpreadDays);
  });

  it('never lets a password live longer than the maximum age, nor much shorter', () => {
    for (let i = 0; i < 1000; i++) {
      const days = (passwordExpiresAt(spid, 'standard', `seed-${i}`, importDay).getTime() - importDay.getTime()) / DAY;
      expect(days).toBeLessThanOrEqual(180);
      expect(days).toBeGreaterThan(180 - spid.expirySpreadDays);
    }
  });

  it('gives each account the same shift every time, and follows the maximum age per account type', () => {
    const a = passwordExpiresAt(spid, 'standard', 'RSSMRA80A01H501U', importDay);
    expect(passwordExpiresAt(spid, 'standard', 'RSSMRA80A01H501U', importDay)).toEqual(a);
    const strictForMi = { ...spid, maxAgeDays: { standard: 180, mi: 90 } };
    expect(passwordExpiresAt(strictForMi, 'mi', 'RSSMRA80A01H501U', importDay).getTime()).toBe(a.getTime() - 90 * DAY);
  });

  it('never lets a new password expire the day it is set, when the maximum age is shorter than the spread', () => {
    const shortForMi = { ...spid, maxAgeDays: { standard: 180, mi: 30 } };
    for (let i = 0; i < 1000; i++) {
      const days = (passwordExpiresAt(shortForMi, 'mi', `seed-${i}`, importDay).getTime() - importDay.getTime()) / DAY;
      expect(days).toBeGreaterThanOrEqual(1);
      expect(days).toBeLessThanOrEqual(30);
    }
  });
});
