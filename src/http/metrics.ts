import { timingSafeEqual } from 'node:crypto';
import type Koa from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { PasswordWorkQueue } from './admission.js';

export type SignInOutcome = 'success' | 'failure' | 'throttled' | 'shed';
export type UnavailableReason = 'outage' | 'overload' | 'store_full';

/**
 * What an operator watches (prom-client): sign-ins by outcome, tokens by grant, request
 * latency per route, the password work queue, event-loop delay and the process's own
 * figures, answers given because a store was away or the provider overloaded. Labels are
 * route names and fixed words, never anything a client typed.
 */
export function createMetrics(passwordWork: PasswordWorkQueue) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'iam_', eventLoopMonitoringPrecision: 20 });

  const signIns = new Counter({ name: 'iam_sign_ins_total', help: 'password sign-ins by outcome', labelNames: ['outcome'] as const, registers: [registry] });
  const tokens = new Counter({ name: 'iam_tokens_issued_total', help: 'token endpoint successes by grant type', labelNames: ['grant_type'] as const, registers: [registry] });
  const unavailable = new Counter({ name: 'iam_unavailable_responses_total', help: '503 answers by reason', labelNames: ['reason'] as const, registers: [registry] });
  const duration = new Histogram({
    name: 'iam_http_request_duration_seconds',
    help: 'request latency by route',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
    registers: [registry],
  });
  const work = () => passwordWork.stats();
  new Gauge({ name: 'iam_password_work_waiting', help: 'argon2id operations waiting for a slot', registers: [registry], collect() { this.set(work().waiting); } });
  new Gauge({ name: 'iam_password_work_running', help: 'argon2id operations running', registers: [registry], collect() { this.set(work().running); } });
  new Gauge({ name: 'iam_password_work_expected_wait_seconds', help: 'expected wait of an argon2id operation queued now', registers: [registry], collect() { this.set(work().expectedWaitMs / 1000); } });
  new Gauge({ name: 'iam_password_work_operation_seconds', help: 'mean duration of one argon2id operation (moving average)', registers: [registry], collect() { this.set(work().meanOperationMs / 1000); } });
  new Gauge({ name: 'iam_event_loop_delay_seconds', help: 'mean event-loop delay over the last second, as admission control sees it', registers: [registry], collect() { this.set(work().eventLoopDelayMs / 1000); } });
  // shedding is counted by the queue itself; exposed as a counter that follows it
  let shedSeen = { queue: 0, event_loop: 0 };
  new Counter({
    name: 'iam_sign_ins_shed_total',
    help: 'new sign-ins turned away by admission control, by reason',
    labelNames: ['reason'] as const,
    registers: [registry],
    collect() {
      const now = work().shed;
      for (const reason of ['queue', 'event_loop'] as const) {
        if (now[reason] > shedSeen[reason]) this.inc({ reason }, now[reason] - shedSeen[reason]);
      }
      shedSeen = now;
    },
  });

  return {
    registry,
    signIn: (outcome: SignInOutcome) => signIns.inc({ outcome }),
    tokenIssued: (grantType: string) => tokens.inc({ grant_type: GRANT_TYPES.has(grantType) ? grantType : 'other' }),
    unavailable: (reason: UnavailableReason) => unavailable.inc({ reason }),

    /** Times every request; the route is the provider's route name or the router's pattern. */
    timing(): Koa.Middleware {
      return async (ctx, next) => {
        const end = duration.startTimer();
        try {
          await next();
        } finally {
          if (ctx.status === 503) {
            const reason = ctx.state.unavailable as UnavailableReason | undefined;
            if (reason) unavailable.inc({ reason });
          }
          end({ route: routeOf(ctx), method: METHODS.has(ctx.method) ? ctx.method : 'other', status: `${Math.floor(ctx.status / 100)}xx` });
        }
      };
    },

    /** GET /metrics; with a token configured, only for `Authorization: Bearer <token>`. */
    endpoint(token: string | undefined): Koa.Middleware {
      const expected = token ? Buffer.from(`Bearer ${token}`) : undefined;
      return async (ctx, next) => {
        if (ctx.path !== '/metrics' || ctx.method !== 'GET') return next();
        if (expected) {
          const given = Buffer.from(ctx.get('authorization'));
          if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
            ctx.status = 401;
            ctx.set('WWW-Authenticate', 'Bearer');
            ctx.body = { error: 'a bearer token is required' };
            return;
          }
        }
        ctx.set('Cache-Control', 'no-store');
        ctx.type = registry.contentType;
        ctx.body = await registry.metrics();
      };
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

const GRANT_TYPES = new Set(['authorization_code', 'refresh_token', 'client_credentials']);
const METHODS = new Set(['GET', 'POST', 'HEAD', 'OPTIONS']);

/** The route a request took: the provider's route name or the router's pattern, never a path. */
export function routeOf(ctx: Koa.Context): string {
  const oidcRoute = (ctx as Partial<KoaContextWithOIDC>).oidc?.route;
  if (oidcRoute) return oidcRoute;
  const matched = (ctx as { _matchedRoute?: unknown })._matchedRoute;
  if (typeof matched === 'string') return matched;
  if (ctx.path.startsWith('/assets/')) return 'assets';
  return 'unmatched';
}
