import type { RedisClient } from '../adapters/redis-client.js';
import type Koa from 'koa';
import type Provider from 'oidc-provider';
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterRes } from 'rate-limiter-flexible';
import { DomainError } from '../errors.js';
import { minutesOf } from './admission.js';
import { addressGroup } from './client-address.js';

const INTERACTION_LOCATION = /^\/interaction\/([\w-]+)$/;

/**
 * Bounds what one address can make the provider store (issue 13): each authorization
 * request that leaves a new Interaction behind (a sign-in page to show, kept 30 minutes)
 * costs its address a point. Past `perMinute`, that Interaction is deleted again at once
 * and the answer is 429 with an Italian page and a Retry-After. Counted on the outcome, so
 * a browser signed in through its SSO session (no Interaction) costs nothing, and a forged
 * session cookie saves nothing. Addresses are counted by IPv4 or IPv6 /64.
 *
 * An address already past its limit is answered before the provider does any work, unless
 * the browser has an SSO session cookie (it may not need a new sign-in): a flood of
 * authorization requests from one address then costs one counter read each.
 */
export function limitSignInStarts(deps: { provider: Provider; perMinute: number; redis?: RedisClient; keyPrefix: string; sessionCookie: string }): Koa.Middleware {
  const options = { keyPrefix: `${deps.keyPrefix}starts`, points: deps.perMinute, duration: 60 };
  const limiter = deps.redis ? new RateLimiterRedis({ storeClient: deps.redis, ...options }) : new RateLimiterMemory(options);
  const tooMany = (msBeforeNext: number) => {
    const retryAfterSeconds = Math.max(1, Math.ceil(msBeforeNext / 1000));
    return new DomainError('sign_in_starts.too_many', { status: 429, vars: { minutes: minutesOf(retryAfterSeconds) }, retryAfterSeconds });
  };

  return async (ctx, next) => {
    if (ctx.path === '/auth' && !ctx.cookies.get(deps.sessionCookie)) {
      const spent = await limiter.get(addressGroup(ctx.ip));
      if (spent && spent.consumedPoints >= deps.perMinute) throw tooMany(spent.msBeforeNext);
    }
    await next();
    if (ctx.path !== '/auth' || ctx.status !== 303) return;
    const uid = INTERACTION_LOCATION.exec(ctx.response.get('location'))?.[1];
    if (!uid) return;
    const refused = await limiter.consume(addressGroup(ctx.ip)).then(
      () => undefined,
      (rejection: unknown) => {
        if (rejection instanceof Error) throw rejection; // the store failed: an outage, answered 503
        return rejection as RateLimiterRes;
      },
    );
    if (!refused) return;
    await (await deps.provider.Interaction.find(uid))?.destroy();
    ctx.remove('Location');
    throw tooMany(refused.msBeforeNext);
  };
}
