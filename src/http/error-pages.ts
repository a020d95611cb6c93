import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import { errors } from 'oidc-provider';
import { DomainError } from '../errors.js';
import { t, type MessageKey } from '../i18n/index.js';
import type { Logger } from '../logger.js';
import { SESSION_COOKIE } from '../provider/configuration.js';
import { routeOf } from './metrics.js';
import { isOutage, OUTAGE_RETRY_AFTER_SECONDS } from './outage.js';
import type { RenderPage } from './views.js';

/** Every failure of our routes becomes an Italian page with a 4xx/5xx; no stack reaches a client. */
export function errorPages(deps: { renderPage: RenderPage; logger: Logger }): Middleware {
  const render = (key: MessageKey, vars = {}, reference?: string) =>
    deps.renderPage('errors/error', {
      title: t('error.title'),
      message: t(key, vars),
      reference: reference ? t('error.reference', { id: reference }) : null,
    });
  // For a browser without an SSO session, a page without a reference depends on its message
  // alone, and a flood of refusals (429 to one address) asks for the same few again and
  // again: each is rendered once.
  const rendered = new Map<string, Promise<string>>();
  const anonymousPage = (key: MessageKey, vars = {}) => {
    const id = `${key} ${JSON.stringify(vars)}`;
    if (!rendered.has(id)) {
      if (rendered.size >= 100) rendered.clear();
      rendered.set(id, render(key, vars));
    }
    return rendered.get(id)!;
  };

  return async (ctx, next) => {
    try {
      await next();
      // a status with no body (no route, wrong method): answer with a page too
      if (ctx.status >= 400 && ctx.body == null) {
        const status = ctx.status;
        ctx.type = 'html';
        ctx.body = await render(status === 404 ? 'error.not_found' : 'error.bad_request');
        ctx.status = status;
      }
    } catch (error) {
      const { status, key, vars, retryAfter } = classify(error);
      ctx.status = status;
      if (retryAfter) ctx.set('Retry-After', String(retryAfter));
      let reference: string | undefined;
      if (status === 503) {
        ctx.state.unavailable ??= isOutage(error) ? 'outage' : 'overload';
        deps.logger.warn({ err: error, requestId: ctx.state.requestId, route: routeOf(ctx) }, 'a store is unreachable');
      } else if (status >= 500) {
        reference = (ctx.state.requestId as string | undefined) ?? randomUUID();
        deps.logger.error({ err: error, requestId: reference, route: routeOf(ctx) }, 'unhandled error');
      }
      ctx.type = 'html';
      ctx.body = await (reference || ctx.cookies.get(SESSION_COOKIE) ? render(key, vars, reference) : anonymousPage(key, vars));
    }
  };
}

function classify(error: unknown): { status: number; key: MessageKey; vars?: Record<string, string | number>; retryAfter?: number } {
  if (error instanceof DomainError) {
    return { status: error.status, key: error.code, vars: error.vars, retryAfter: error.retryAfterSeconds };
  }
  if (error instanceof errors.SessionNotFound) return { status: 400, key: 'error.interaction_expired' };
  if (isOutage(error)) return { status: 503, key: 'error.unavailable', retryAfter: OUTAGE_RETRY_AFTER_SECONDS };
  const status = (error as { status?: unknown })?.status;
  if (status === 413) return { status: 413, key: 'error.payload_too_large' };
  if (typeof status === 'number' && status >= 400 && status < 500) return { status, key: 'error.bad_request' };
  return { status: 500, key: 'error.internal' };
}
