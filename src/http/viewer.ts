import type { Context, Middleware } from 'koa';
import { AREA_RISERVATA } from '../services/consoles.js';
import type { SignedIn, SignedInReader } from '../provider/sso-session.js';
import { SESSION_COOKIE } from '../provider/configuration.js';

/** Who is signed in, as the page header's user menu shows it (views/_layout.ejs). */
export interface Viewer {
  name: string;
  username: string;
  logoutHref: string;
}

export function viewerOf(signedIn: Pick<SignedIn, 'account'> | undefined, logoutClientId: string = AREA_RISERVATA.clientId): Viewer | null {
  if (!signedIn) return null;
  return {
    name: `${signedIn.account.givenName} ${signedIn.account.familyName}`,
    username: signedIn.account.username,
    logoutHref: `/session/end?client_id=${logoutClientId}`,
  };
}

/**
 * For pages outside the consoles (home, legal pages): puts the viewer in ctx.state.viewer
 * when the browser holds a signed-in SSO session. Browsers without the session cookie cost
 * nothing; a page with a viewer must not be cached publicly (see `cacheFor`).
 */
export function readViewer(signedIn: SignedInReader): Middleware {
  return async (ctx: Context, next) => {
    if (ctx.method === 'GET' && ctx.cookies.get(SESSION_COOKIE)) ctx.state.viewer = viewerOf(await signedIn(ctx));
    return next();
  };
}

/** Public caching for anonymous browsers only: a page naming the person stays theirs. */
export function cacheFor(ctx: Context, seconds: number): void {
  ctx.set('Cache-Control', ctx.state.viewer ? 'private, no-store' : `public, max-age=${seconds}`);
}
