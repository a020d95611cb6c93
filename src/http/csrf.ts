import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Middleware } from 'koa';
import { DomainError } from '../errors.js';

const COOKIE = 'iam_csrf';
export const CSRF_FIELD = '_csrf';

/**
 * Synchronizer token bound to a per-browser random cookie: the form carries an
 * HMAC of the cookie value, which another site can neither read nor forge.
 */
export function createCsrf(options: { secret: string }) {
  const sign = (value: string) => createHmac('sha256', options.secret).update(value).digest('base64url');

  /** Makes `ctx.state.csrfToken` available to views, issuing the cookie on first use. */
  const issue: Middleware = async (ctx, next) => {
    let value = ctx.cookies.get(COOKIE);
    if (!value || !/^[\w-]{43}$/.test(value)) {
      value = randomBytes(32).toString('base64url');
      ctx.cookies.set(COOKIE, value, { httpOnly: true, sameSite: 'lax', secure: ctx.secure, path: '/', overwrite: true });
    }
    ctx.state.csrfToken = sign(value);
    await next();
  };

  /** Refuses a POST whose form token does not match the cookie. Place after the body parser. */
  const verify: Middleware = async (ctx, next) => {
    const value = ctx.cookies.get(COOKIE);
    const sent = (ctx.request.body as Record<string, unknown> | undefined)?.[CSRF_FIELD];
    if (!value || typeof sent !== 'string' || !safeEqual(sent, sign(value))) {
      throw new DomainError('error.csrf', { status: 403 });
    }
    await next();
  };

  return { issue, verify };
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
