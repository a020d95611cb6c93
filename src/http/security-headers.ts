import type { Middleware } from 'koa';

const BASE_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self' data:", // bootstrap-italia inlines an icon font
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * form-action also governs the redirects that follow a form post: a sign-in form posts
 * here, and the answer redirects to the service. So a page may name the origins its forms
 * end up at (`ctx.state.formActionOrigins`, set by whoever knows the service in play);
 * every other page posts only to the provider.
 */
function contentSecurityPolicy(formTargets: readonly string[] = []): string {
  return `${BASE_POLICY}; form-action ${["'self'", ...formTargets].join(' ')}`;
}

/** Headers for every response, the provider's included. */
export function securityHeaders(options: { hsts: boolean }): Middleware {
  return async (ctx, next) => {
    ctx.set('Content-Security-Policy', contentSecurityPolicy());
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('X-Frame-Options', 'DENY');
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('Cross-Origin-Opener-Policy', 'same-origin');
    ctx.set('Permissions-Policy', 'camera=(), microphone=(), geolocation=()');
    if (options.hsts) ctx.set('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
    await next();
    const targets = ctx.state.formActionOrigins as readonly string[] | undefined;
    if (targets?.length) ctx.set('Content-Security-Policy', contentSecurityPolicy(targets));
  };
}

/** Pages with personal data or one-time forms must not be stored by browsers or proxies. */
export const noStore: Middleware = async (ctx, next) => {
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Pragma', 'no-cache');
  await next();
};
