import Router from '@koa/router';
import type { Context } from 'koa';
import getRawBody from 'raw-body';
import type { z } from 'zod';
import type { Logger } from '../../logger.js';
import { problemsOf } from '../../services/catalogue.js';
import { identifyCaller, type CallerDeps } from './caller.js';
import { openApiDocument } from './openapi.js';
import { createOperations, type ApiDeps } from './operations.js';
import type { Operation } from './operation.js';
import { problem, type Answer } from './problems.js';

export const ADMIN_API_PATH = '/admin/api';

/** Bodies the API reads: settings are small; a staff file of 100,000 lines is about 15 MB. */
const BODY_LIMITS = { 'application/json': 256 * 1024, 'text/csv': 32 * 1024 * 1024 } as const;

export interface AdminApiDeps extends ApiDeps, CallerDeps {
  issuer: string;
  logger: Logger;
}

function send(ctx: Context, answer: Answer): void {
  ctx.status = answer.status;
  ctx.set('Cache-Control', 'no-store');
  if (answer.body === undefined) {
    // only 204 answers have no body: Koa ends them empty
    ctx.body = null;
    return;
  }
  ctx.body = answer.body;
  ctx.type = answer.status >= 400 ? 'application/problem+json' : 'application/json';
}

/** The request's parts checked against the operation's schemas: the input, or the answer that refuses it. */
async function inputOf(ctx: Context, op: Operation): Promise<{ params: unknown; query: unknown; body: unknown } | Answer> {
  const params = op.params ? op.params.safeParse(ctx.params) : undefined;
  if (params && !params.success) return problem('not-found');
  const query = op.query ? op.query.safeParse(ctx.query) : undefined;
  if (query && !query.success) return problem('invalid-request', undefined, problemsOf(query.error));
  if (!op.body) return { params: params?.data, query: query?.data, body: undefined };
  const { contentType, schema } = op.body;
  if (!ctx.is(contentType)) return problem('unsupported-media-type', `send the body as ${contentType}`);
  const raw = await getRawBody(ctx.req, { limit: BODY_LIMITS[contentType], length: ctx.get('content-length') || undefined });
  ctx.state.rawBody = raw;
  let value: unknown = raw.toString('utf8');
  if (contentType === 'application/json') {
    try {
      value = JSON.parse(value as string);
    } catch {
      return problem('malformed-body');
    }
  }
  const body = (schema as z.ZodType).safeParse(value);
  if (!body.success) return problem('invalid-request', undefined, problemsOf(body.error));
  return { params: params?.data, query: query?.data, body: body.data };
}

/**
 * The admin JSON API (/admin/api, a router of its own): every operation validated by the zod
 * schemas its OpenAPI document is made from, served at /admin/api/openapi.json; every error an
 * RFC 9457 problem, never an HTML page or a stack trace.
 */
export function createAdminApiRouter(deps: AdminApiDeps) {
  const router = new Router({ prefix: ADMIN_API_PATH });
  const operations = createOperations(deps);
  const document = openApiDocument(operations, deps.issuer);

  router.get('/openapi.json', (ctx) => {
    ctx.body = document;
  });

  for (const op of operations) {
    router[op.method](op.path.replace(/\{(\w+)\}/g, ':$1'), async (ctx) => {
      try {
        const caller = await identifyCaller(ctx, deps);
        if ('status' in caller) return send(ctx, caller);
        const input = await inputOf(ctx, op);
        if ('status' in input) return send(ctx, input);
        send(ctx, await op.handle({ ...input, caller, ctx } as Parameters<Operation['handle']>[0]));
      } catch (error) {
        const status = (error as { status?: number; type?: string }).status;
        if (status === 413) return send(ctx, problem('payload-too-large'));
        if (status === 400 && (error as { type?: string }).type?.startsWith('request.')) return send(ctx, problem('malformed-body'));
        const reference = (ctx.state.requestId as string | undefined) ?? 'n/a';
        deps.logger.error({ err: error, requestId: reference, operation: op.id }, 'admin API error');
        send(ctx, problem('server-error', `reference ${reference}`));
      }
    });
  }

  router.all('/{*rest}', (ctx) => send(ctx, problem('not-found', 'no such operation: see /admin/api/openapi.json')));
  return router;
}
