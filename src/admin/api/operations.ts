import { z } from 'zod';
import type { AuditLog } from '../../audit/audit-log.js';
import type { ImportReport } from '../../staff/import.js';
import { KEY_OVERLAP, type KeyActor, type KeyAdministration } from '../../provider/keys.js';
import { actorDetails, MAX_SECRET_GRACE_SECONDS, type CatalogueActor, type Refusal, type ServiceAdministration } from '../../services/administration.js';
import { SERVICE_ID, serviceSettingsSchema, type ServiceRules } from '../../services/catalogue.js';
import { initialAccessTokenRequestSchema, type InitialAccessTokens } from '../../services/initial-access-tokens.js';
import { serviceView, serviceViewSchema, tokenView, tokenViewSchema } from '../../services/views.js';
import type { AuditViewer } from '../audit-viewer.js';
import type { Administrators } from '../administrators.js';
import type { EnablementAdministration } from '../../enablement/administration.js';
import { validateCodiceFiscale } from '../../accounts/codice-fiscale.js';
import { operation, type ApiCaller, type Operation } from './operation.js';
import { problem, type Answer } from './problems.js';

export interface ApiDeps {
  services: ServiceAdministration;
  initialAccessTokens: InitialAccessTokens;
  keys: KeyAdministration;
  auditViewer: AuditViewer;
  staffImport: { run(bytes: Uint8Array, options: { dryRun?: boolean; actor: { kind: 'admin' | 'system' | 'service'; id?: string; client?: string } }): Promise<ImportReport> };
  audit: AuditLog;
  administrators: Administrators;
  enablements: EnablementAdministration;
  rules: ServiceRules;
}

/** The caller as the audit log records it. */
export const actorOf = (caller: ApiCaller, from: { ip?: string; userAgent?: string } = {}): CatalogueActor & KeyActor =>
  caller.kind === 'admin'
    ? { kind: 'admin', id: caller.accountId, via: 'api', ...from }
    : { kind: 'service', client: caller.clientId, via: 'api', ...from };

const from = (ctx: { ip: string; get(name: string): string }) => ({ ip: ctx.ip, userAgent: ctx.get('user-agent') });

const serviceIdParam = z.object({ id: z.string().regex(SERVICE_ID).meta({ description: 'the service’s client_id', example: 'istanze-online' }) });

function refusedBy(outcome: Refusal, id: string): Answer {
  if (outcome.reason === 'not_found') return problem('not-found', `no service with id ${id}`);
  if (outcome.reason === 'public_client') return problem('conflict', `${id} is a public client: it has no secret to rotate`);
  const taken = outcome.problems.find((p) => p.field === 'id' && p.message === 'is already registered');
  if (taken) return problem('conflict', `a service with id ${id} is already registered`, outcome.problems);
  return problem('invalid-request', undefined, outcome.problems);
}

/** Every operation of /admin/api, in the order the OpenAPI document lists them. */
export function createOperations(deps: ApiDeps): Operation[] {
  const settings = serviceSettingsSchema(deps.rules);
  const service = serviceViewSchema(deps.rules);
  const withSecret = z
    .object({ service, clientSecret: z.string().nullable().describe('shown only in this answer; null when the service has none or kept its own') })
    .meta({ id: 'ServiceWithSecret' });

  const administrator = z.object({ accountId: z.string(), username: z.string(), name: z.string(), grantedAt: z.string(), grantedBy: z.string().nullable() }).meta({ id: 'Administrator' });

  return [
    operation({
      id: 'listServices',
      tag: 'services',
      method: 'get',
      path: '/services',
      summary: 'The catalogue of client services',
      responses: { 200: { description: 'every service, enabled or not', schema: z.array(service) } },
      handle: async () => ({ status: 200, body: (await deps.services.repository.list()).map(serviceView) }),
    }),
    operation({
      id: 'registerService',
      tag: 'services',
      method: 'post',
      path: '/services',
      summary: 'Register a service; its client secret is in this answer only',
      body: { contentType: 'application/json', schema: z.object({ id: serviceIdParam.shape.id, settings }).strict().meta({ id: 'NewService' }) },
      responses: { 201: { description: 'registered: it signs people in at once, on every instance', schema: withSecret }, 409: { description: 'the id is taken' } },
      async handle({ body, caller, ctx }) {
        const outcome = await deps.services.register(body, actorOf(caller, from(ctx)), 'api');
        if (!outcome.ok) return refusedBy(outcome, body.id);
        return { status: 201, body: { service: serviceView(outcome.service), clientSecret: outcome.secret } };
      },
    }),
    operation({
      id: 'getService',
      tag: 'services',
      method: 'get',
      path: '/services/{id}',
      summary: 'One service',
      params: serviceIdParam,
      responses: { 200: { description: 'the service', schema: service }, 404: { description: 'no such service' } },
      async handle({ params }) {
        const found = await deps.services.repository.find(params.id);
        return found ? { status: 200, body: serviceView(found) } : problem('not-found', `no service with id ${params.id}`);
      },
    }),
    operation({
      id: 'updateService',
      tag: 'services',
      method: 'put',
      path: '/services/{id}',
      summary: 'Replace a service’s settings (a public client made confidential gets its first secret)',
      params: serviceIdParam,
      body: { contentType: 'application/json', schema: settings },
      responses: { 200: { description: 'updated', schema: withSecret }, 404: { description: 'no such service' } },
      async handle({ params, body, caller, ctx }) {
        const outcome = await deps.services.update(params.id, body, actorOf(caller, from(ctx)));
        if (!outcome.ok) return refusedBy(outcome, params.id);
        return { status: 200, body: { service: serviceView(outcome.service), clientSecret: outcome.secret } };
      },
    }),
    operation({
      id: 'removeService',
      tag: 'services',
      method: 'delete',
      path: '/services/{id}',
      summary: 'Remove a service: refused at once everywhere; its registration access tokens go with it',
      params: serviceIdParam,
      responses: { 204: { description: 'removed' }, 404: { description: 'no such service' } },
      async handle({ params, caller, ctx }) {
        const outcome = await deps.services.remove(params.id, actorOf(caller, from(ctx)));
        return outcome.ok ? { status: 204 } : refusedBy(outcome, params.id);
      },
    }),
    operation({
      id: 'rotateServiceSecret',
      tag: 'services',
      method: 'post',
      path: '/services/{id}/secret',
      summary: 'A new client secret; the current one stays valid for graceSeconds',
      params: serviceIdParam,
      body: {
        contentType: 'application/json',
        schema: z.object({ graceSeconds: z.number().int().min(0).max(MAX_SECRET_GRACE_SECONDS).describe('0: the current secret is refused at once') }).strict().meta({ id: 'SecretRotation' }),
      },
      responses: { 200: { description: 'the new secret, shown only here', schema: withSecret }, 404: { description: 'no such service' }, 409: { description: 'a public client has no secret' } },
      async handle({ params, body, caller, ctx }) {
        const outcome = await deps.services.rotateSecret(params.id, body.graceSeconds, actorOf(caller, from(ctx)));
        if (!outcome.ok) return refusedBy(outcome, params.id);
        return { status: 200, body: { service: serviceView(outcome.service), clientSecret: outcome.secret } };
      },
    }),
    ...(['disable', 'enable'] as const).map((change) =>
      operation({
        id: `${change}Service`,
        tag: 'services',
        method: 'post',
        path: `/services/{id}/${change}`,
        summary: change === 'disable' ? 'Disable a service: refused at /auth and /token until enabled again' : 'Enable a disabled service',
        params: serviceIdParam,
        responses: { 200: { description: 'the service as it is now', schema: service }, 404: { description: 'no such service' } },
        async handle({ params, caller, ctx }) {
          const outcome = await deps.services.setEnabled(params.id, change === 'enable', actorOf(caller, from(ctx)));
          if (!outcome.ok) return refusedBy(outcome, params.id);
          return { status: 200, body: serviceView((await deps.services.repository.find(params.id))!) };
        },
      }),
    ),

    operation({
      id: 'listInitialAccessTokens',
      tag: 'initial access tokens',
      method: 'get',
      path: '/initial-access-tokens',
      summary: 'The initial access tokens issued for dynamic registration (never their values)',
      responses: { 200: { description: 'newest first', schema: z.array(tokenViewSchema) } },
      handle: async () => ({ status: 200, body: (await deps.initialAccessTokens.list()).map(tokenView) }),
    }),
    operation({
      id: 'issueInitialAccessToken',
      tag: 'initial access tokens',
      method: 'post',
      path: '/initial-access-tokens',
      summary: 'A token with which a partner registers its service at /reg (RFC 7591); its value is in this answer only',
      body: { contentType: 'application/json', schema: initialAccessTokenRequestSchema.meta({ id: 'InitialAccessTokenRequest' }) },
      responses: {
        201: { description: 'issued', schema: z.object({ token: z.string(), initialAccessToken: tokenViewSchema }).meta({ id: 'IssuedInitialAccessToken' }) },
      },
      async handle({ body, caller, ctx }) {
        const outcome = await deps.initialAccessTokens.issue(body, actorOf(caller, from(ctx)));
        if (!outcome.ok) return problem('invalid-request', undefined, outcome.problems);
        return { status: 201, body: { token: outcome.token, initialAccessToken: tokenView(outcome.record) } };
      },
    }),
    operation({
      id: 'revokeInitialAccessToken',
      tag: 'initial access tokens',
      method: 'delete',
      path: '/initial-access-tokens/{id}',
      summary: 'Revoke a token: it registers no more services (those registered stay)',
      params: z.object({ id: z.string().max(64).meta({ example: 'iat-0123456789abcdef' }) }),
      responses: { 204: { description: 'revoked (or already revoked)' }, 404: { description: 'no such token' } },
      async handle({ params, caller, ctx }) {
        const outcome = await deps.initialAccessTokens.revoke(params.id, actorOf(caller, from(ctx)));
        return outcome === 'not_found' ? problem('not-found', `no initial access token with id ${params.id}`) : { status: 204 };
      },
    }),

    operation({
      id: 'listKeys',
      tag: 'keys',
      method: 'get',
      path: '/keys',
      summary: 'The signing and cookie keys, with their state',
      responses: {
        200: {
          description: 'newest first',
          schema: z.array(
            z.object({ kid: z.string(), use: z.string(), alg: z.string().nullable(), state: z.enum(['active', 'retiring', 'retired']), createdAt: z.string(), retiredAt: z.string().nullable() }).meta({ id: 'Key' }),
          ),
        },
      },
      handle: async () => ({
        status: 200,
        body: (await deps.keys.list()).map((k) => ({ ...k, createdAt: k.createdAt.toISOString(), retiredAt: k.retiredAt?.toISOString() ?? null })),
      }),
    }),
    operation({
      id: 'rotateKeys',
      tag: 'keys',
      method: 'post',
      path: '/keys/rotate',
      summary: 'New signing and cookie keys; the previous ones verify for overlapSeconds (restart the instances one by one within it)',
      body: {
        contentType: 'application/json',
        schema: z.object({ overlapSeconds: z.number().int().min(KEY_OVERLAP.min).max(KEY_OVERLAP.max).default(KEY_OVERLAP.default) }).strict().meta({ id: 'KeyRotation' }),
      },
      responses: { 200: { description: 'rotated', schema: z.object({ created: z.array(z.string()), retiring: z.array(z.string()), until: z.string() }).meta({ id: 'KeyRotationDone' }) } },
      async handle({ body, caller, ctx }) {
        const outcome = await deps.keys.rotate(body.overlapSeconds, actorOf(caller, from(ctx)));
        if (!outcome.ok) return problem('invalid-request', undefined, [{ field: 'overlapSeconds', message: `from ${KEY_OVERLAP.min} to ${KEY_OVERLAP.max}` }]);
        return { status: 200, body: { created: outcome.created, retiring: outcome.retiring, until: outcome.until.toISOString() } };
      },
    }),
    operation({
      id: 'retireKey',
      tag: 'keys',
      method: 'post',
      path: '/keys/{kid}/retire',
      summary: 'End a rotated key’s overlap now (never the active key)',
      params: z.object({ kid: z.string().max(128) }),
      responses: { 204: { description: 'retired (or already)' }, 404: { description: 'no such key' }, 409: { description: 'the key is active: rotate first' } },
      async handle({ params, caller, ctx }) {
        const outcome = await deps.keys.retire(params.kid, actorOf(caller, from(ctx)));
        if (outcome === 'not_found') return problem('not-found', `no signing or cookie key ${params.kid}`);
        if (outcome === 'active') return problem('conflict', `${params.kid} is active: rotate the keys first`);
        return { status: 204 };
      },
    }),

    operation({
      id: 'readAuditLog',
      tag: 'audit log',
      method: 'get',
      path: '/audit',
      summary: 'The audit log, newest first, 50 entries a page',
      query: z
        .object({
          actor: z.string().max(64).regex(/^[\w.@-]+$/).optional().describe('a username or account id'),
          subject: z.string().max(64).regex(/^[\w.@-]+$/).optional().describe('a username or account id'),
          action: z.string().max(64).regex(/^[a-z_.]+$/).optional().describe('an action or its prefix: service. finds every change to the catalogue'),
          from: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional().describe('first day, Italian time'),
          to: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional().describe('last day, Italian time'),
          after: z.string().regex(/^\d{1,18}$/).optional().describe('the next cursor of the previous page'),
        })
        .strict(),
      responses: {
        200: {
          description: 'one page',
          schema: z
            .object({
              entries: z.array(
                z.object({
                  id: z.string(),
                  occurredAt: z.string(),
                  actorKind: z.string(),
                  actor: z.string().nullable(),
                  subject: z.string().nullable(),
                  action: z.string(),
                  outcome: z.string(),
                  ip: z.string().nullable(),
                  clientId: z.string().nullable(),
                  details: z.record(z.string(), z.unknown()),
                }),
              ),
              next: z.string().nullable().describe('pass as after for the next (older) page'),
            })
            .meta({ id: 'AuditPage' }),
        },
      },
      async handle({ query, caller, ctx }) {
        const page = await deps.auditViewer.page(query);
        const actor = actorOf(caller, from(ctx));
        await deps.audit.record({ actorKind: actor.kind, actorId: actor.id ?? null, action: 'admin.audit_viewed', outcome: 'success', ip: actor.ip, userAgent: actor.userAgent, details: { ...actorDetails(actor), filter: query } });
        return { status: 200, body: { entries: page.rows.map((r) => ({ ...r, occurredAt: r.occurredAt.toISOString() })), next: page.next } };
      },
    }),

    operation({
      id: 'listAdministrators',
      tag: 'administrators',
      method: 'get',
      path: '/administrators',
      summary: 'The accounts with the administrator role',
      responses: {
        200: {
          description: 'by username',
          schema: z.array(administrator),
        },
      },
      handle: async () => ({ status: 200, body: (await deps.administrators.list()).map((a) => ({ ...a, grantedAt: a.grantedAt.toISOString() })) }),
    }),
    operation({
      id: 'grantAdministrator',
      tag: 'administrators',
      method: 'post',
      path: '/administrators',
      summary: 'Grant the role (only an administrator’s own session: a client’s token cannot make administrators)',
      body: { contentType: 'application/json', schema: z.object({ username: z.string().trim().min(1).max(64) }).strict().meta({ id: 'RoleGrant' }) },
      responses: { 201: { description: 'granted', schema: administrator }, 200: { description: 'already an administrator', schema: administrator }, 404: { description: 'no such account' } },
      async handle({ body, caller, ctx }) {
        if (caller.kind !== 'admin') return problem('forbidden', 'the administrator role is granted by a person: use the console’s session');
        const outcome = await deps.administrators.grant(body.username, { kind: 'admin', id: caller.accountId, ...from(ctx) });
        if (outcome === 'no_account') return problem('not-found', `no account with username ${body.username}`);
        const granted = (await deps.administrators.list()).find((a) => a.username.toLowerCase() === body.username.toLowerCase())!;
        return { status: outcome === 'granted' ? 201 : 200, body: { ...granted, grantedAt: granted.grantedAt.toISOString() } };
      },
    }),
    operation({
      id: 'revokeAdministrator',
      tag: 'administrators',
      method: 'delete',
      path: '/administrators/{username}',
      summary: 'Revoke the role (never the last administrator; only an administrator’s own session)',
      params: z.object({ username: z.string().max(64) }),
      responses: { 204: { description: 'revoked' }, 404: { description: 'no such administrator' }, 409: { description: 'the last administrator' } },
      async handle({ params, caller, ctx }) {
        if (caller.kind !== 'admin') return problem('forbidden', 'the administrator role is revoked by a person: use the console’s session');
        const outcome = await deps.administrators.revoke(params.username, { kind: 'admin', id: caller.accountId, ...from(ctx) });
        if (outcome === 'last_one') return problem('conflict', `${params.username} is the last administrator`);
        return outcome === 'revoked' ? { status: 204 } : problem('not-found', `${params.username} is not an administrator`);
      },
    }),

    operation({
      id: 'listEnablements',
      tag: 'enablements',
      method: 'get',
      path: '/enablements',
      summary: 'A person’s enablement requests, by codice fiscale',
      query: z.object({ fiscalCode: z.string().trim().toUpperCase().refine((cf) => validateCodiceFiscale(cf).valid, 'is not a valid codice fiscale') }).strict(),
      responses: {
        200: {
          description: 'newest first',
          schema: z.array(z.object({ number: z.string(), serviceId: z.string(), state: z.string(), createdAt: z.string() }).meta({ id: 'Enablement' })),
        },
      },
      async handle({ query }) {
        const requests = await deps.enablements.list(query.fiscalCode);
        return { status: 200, body: requests.map((r) => ({ number: r.number, serviceId: r.serviceId, state: r.state, createdAt: r.createdAt.toISOString() })) };
      },
    }),
    operation({
      id: 'revokeEnablement',
      tag: 'enablements',
      method: 'post',
      path: '/enablements/{number}/revoke',
      summary: 'Revoke an enablement request (the record is kept; the person may ask again)',
      params: z.object({ number: z.string().max(32).meta({ example: 'IOL-2026-000042' }) }),
      responses: { 204: { description: 'revoked (or already)' }, 404: { description: 'no such request' } },
      async handle({ params, caller, ctx }) {
        const outcome = await deps.enablements.revoke(params.number, actorOf(caller, from(ctx)));
        return outcome === 'not_found' ? problem('not-found', `no enablement request ${params.number}`) : { status: 204 };
      },
    }),

    operation({
      id: 'importStaff',
      tag: 'staff',
      method: 'post',
      path: '/staff/import',
      summary: 'Import the staff file (CSV, the SIDI export’s columns): all lines or none',
      query: z.object({ dryRun: z.enum(['true', 'false']).default('false').describe('true: check every line, change nothing') }).strict(),
      body: { contentType: 'text/csv', schema: z.string().describe('the CSV file, UTF-8 or Windows-1252'), description: 'at most 32 MB' },
      responses: {
        200: { description: 'applied, or checked (dryRun)', schema: z.record(z.string(), z.unknown()).meta({ id: 'ImportReport' }) },
        422: { description: 'refused, nothing changed: a problem whose report member names every line refused' },
      },
      async handle({ query, caller, ctx }) {
        const bytes = ctx.state.rawBody as Uint8Array;
        const report = await deps.staffImport.run(bytes, { dryRun: query.dryRun === 'true', actor: actorOf(caller) });
        if (!report.fileProblem && report.counts.refused === 0) return { status: 200, body: report };
        const refused = problem('invalid-request', report.fileProblem ?? `${report.counts.refused} lines refused`);
        return { status: refused.status, body: { ...(refused.body as object), report } };
      },
    }),
  ];
}
