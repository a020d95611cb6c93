import { randomBytes } from 'node:crypto';
import type { Context } from 'koa';

export const DEVICE_COOKIE = 'iam_device';
/** usernames one browser remembers; the oldest goes first */
const MAX_ENTRIES = 5;
export const DEVICE_COOKIE_LIFETIME_MS = 180 * 24 * 60 * 60 * 1000;

interface Entry {
  /** the username as typed at sign-in, lower-cased */
  u: string;
  /** random id, new at every successful sign-in */
  d: string;
}

/**
 * OWASP's device cookie: a browser that signed in to an account carries a signed cookie
 * naming the username and a random id. Its attempts for that username are counted on
 * their own (accounts/login-throttle.ts), so a lock caused by guesses from elsewhere never
 * keeps the owner out. Signed with the provider's cookie keys (Koa's signed cookies), so it
 * cannot be forged; it carries no secret and no personal data beyond the username.
 */
export function deviceCookie(secure: boolean) {
  const normal = (username: string) => username.trim().toLowerCase();

  function read(ctx: Context): Entry[] {
    const raw = ctx.cookies.get(DEVICE_COOKIE, { signed: true });
    if (!raw) return [];
    try {
      const parsed: unknown = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
      return Array.isArray(parsed)
        ? parsed.filter((e): e is Entry => typeof e?.u === 'string' && typeof e?.d === 'string' && /^[\w-]{22}$/.test(e.d)).slice(0, MAX_ENTRIES)
        : [];
    } catch {
      return [];
    }
  }

  return {
    /** The id this browser holds for `username`, if it signed in to it before. */
    idFor(ctx: Context, username: string): string | undefined {
      return read(ctx).find((e) => e.u === normal(username))?.d;
    },

    /** After a successful sign-in: a new id for the username, the other entries kept. */
    remember(ctx: Context, username: string): void {
      const entries = [{ u: normal(username), d: randomBytes(16).toString('base64url') }, ...read(ctx).filter((e) => e.u !== normal(username))].slice(0, MAX_ENTRIES);
      ctx.cookies.set(DEVICE_COOKIE, Buffer.from(JSON.stringify(entries)).toString('base64url'), {
        signed: true,
        httpOnly: true,
        sameSite: 'lax',
        secure,
        path: '/',
        maxAge: DEVICE_COOKIE_LIFETIME_MS,
        overwrite: true,
      });
    },
  };
}

export type DeviceCookie = ReturnType<typeof deviceCookie>;
