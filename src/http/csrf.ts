import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context, Middleware } from 'koa';
import { DomainError } from '../errors.js';

export const CSRF_FIELD = '_csrf';

export interface CsrfGuard {
  /** Issues the browser's CSRF cookie when missing; views read the token as `ctx.state.csrfToken`. */
  issue: Middleware;
  /** Refuses a POST whose form token does not match the cookie and the form's scope. Place after the body parser. */
  verify: Middleware;
}

/**
 * Synchronizer tokens bound to a per-browser random cookie and to the form's scope (for
 * sign-in, the interaction): the form carries an HMAC of both, which another site can
 * neither read nor forge, and a token taken from one interaction is worthless in another.
 * Over https the cookie carries the `__Host-` prefix: Secure, path /, no Domain, so a
 * sibling subdomain cannot plant one.
 */
export function createCsrf(options: { secret: string; secure: boolean }) {
  const cookie = csrfCookieName(options.secure);
  const sign = (value: string, scope: string) =>
    createHmac('sha256', options.secret).update(`${scope}\n${value}`).digest('base64url');

  /** A guard for forms whose scope is `scopeOf(ctx)`, read when the page renders or the form arrives. */
  return function guard(scopeOf: (ctx: Context) => string): CsrfGuard {
    const issue: Middleware = async (ctx, next) => {
      let value = ctx.cookies.get(cookie);
      if (!value || !/^[\w-]{43}$/.test(value)) {
        value = randomBytes(32).toString('base64url');
        ctx.cookies.set(cookie, value, { httpOnly: true, sameSite: 'lax', secure: options.secure, path: '/', overwrite: true });
      }
      const browserValue = value;
      // lazy: route parameters (the interaction uid) are known only once the route runs
      Object.defineProperty(ctx.state, 'csrfToken', {
        configurable: true,
        enumerable: true,
        get: () => sign(browserValue, scopeOf(ctx)),
      });
      await next();
    };

    const verify: Middleware = async (ctx, next) => {
      const value = ctx.cookies.get(cookie);
      const sent = (ctx.request.body as Record<string, unknown> | undefined)?.[CSRF_FIELD];
      if (!value || typeof sent !== 'string' || !safeEqual(sent, sign(value, scopeOf(ctx)))) {
        throw new DomainError('error.csrf', { status: 403 });
      }
      await next();
    };

    return { issue, verify };
  };
}

export type Csrf = ReturnType<typeof createCsrf>;

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** Over https with the `__Host-` prefix (Secure, path /, no Domain). */
export function csrfCookieName(secure: boolean): string {
  return secure ? '__Host-iam_csrf' : 'iam_csrf';
}
