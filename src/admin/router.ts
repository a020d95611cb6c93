import Router from '@koa/router';
import type { Context, Middleware, Next } from 'koa';
import { z } from 'zod';
import type { AuditLog } from '../audit/audit-log.js';
import type { CsrfGuard } from '../http/csrf.js';
import { noStore } from '../http/security-headers.js';
import { viewerOf } from '../http/viewer.js';
import { singleFileUpload } from '../http/upload.js';
import type { RenderPage } from '../http/views.js';
import { t } from '../i18n/index.js';
import { formatDateTime } from '../mail/templates.js';
import { ACR } from '../accounts/acr.js';
import { ADMIN_CONSOLE, consoleReturnPath, consoleSignInUrl, type ServiceDirectory } from '../services/consoles.js';
import type { SignedIn, SignedInReader } from '../provider/sso-session.js';
import type { ImportReport } from '../staff/import.js';
import type { Administrators } from './administrators.js';
import type { AuditViewer } from './audit-viewer.js';
import type { EnablementAdministration } from '../enablement/administration.js';
import { formBody } from '../http/body.js';
import type { ServiceAdministration } from '../services/administration.js';
import { servicePages } from './service-pages.js';
import { tokenPages } from './token-pages.js';
import type { InitialAccessTokens } from '../services/initial-access-tokens.js';
import { validateCodiceFiscale } from '../accounts/codice-fiscale.js';

export interface AdminRouterDeps {
  administrators: Administrators;
  auditViewer: AuditViewer;
  audit: AuditLog;
  staffImport: { run(bytes: Uint8Array, options: { dryRun?: boolean; actor: { kind: 'admin'; id: string } }): Promise<ImportReport> };
  enablements: EnablementAdministration;
  /** the catalogue of client services */
  services: ServiceAdministration;
  /** initial access tokens for dynamic registration */
  initialAccessTokens: InitialAccessTokens;
  /** the services' names, read once per page */
  serviceDirectory: ServiceDirectory;
  signedIn: SignedInReader;
  renderPage: RenderPage;
  issuer: string;
}

/** A staff file of 100,000 lines is about 15 MB. */
const MAX_IMPORT_BYTES = 32 * 1024 * 1024;
/** Lines of a report shown on the page; the counts cover them all. */
const REPORT_LINES_SHOWN = 200;

const optionalText = (max: number, pattern?: RegExp) =>
  z.string().trim().max(max).transform((v) => v || undefined).pipe(pattern ? z.string().regex(pattern).optional() : z.string().optional()).catch(undefined);
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const auditQuery = z.object({
  attore: optionalText(64, /^[\w.@-]+$/),
  soggetto: optionalText(64, /^[\w.@-]+$/),
  azione: optionalText(64, /^[a-z_.]+$/),
  dal: optionalText(10, DAY),
  al: optionalText(10, DAY),
  dopo: optionalText(18, /^\d+$/),
});

/**
 * The administration (a router of its own): administrators only, with two factors, signed in
 * through the provider's SSO session as the console's own client. The role is read from the
 * database at every request: the audit log, the staff import, the administrators, enablements.
 */
export function createAdminRouter(deps: AdminRouterDeps, csrf: (scopeOf: (ctx: Context) => string) => CsrfGuard) {
  const router = new Router({ prefix: ADMIN_CONSOLE.path });
  const guard = csrf((ctx) => `admin:${(ctx.state.admin as SignedIn | undefined)?.session.uid ?? ''}`);
  router.use(noStore, guard.issue);
  const admin = (ctx: Context) => ctx.state.admin as SignedIn;
  const from = (ctx: Context) => ({ ip: ctx.ip, userAgent: ctx.get('user-agent') });

  async function render(ctx: Context, view: string, status: number, locals: Record<string, unknown> & { title: string }) {
    const signedIn = ctx.state.admin as SignedIn | undefined;
    ctx.status = status;
    ctx.type = 'html';
    ctx.body = await deps.renderPage(`admin/${view}`, {
      service: { name: t('admin.service_name') },
      csrfToken: ctx.state.csrfToken as string,
      admin: signedIn ? { name: `${signedIn.account.givenName} ${signedIn.account.familyName}`, username: signedIn.account.username } : null,
      logoutHref: `/session/end?client_id=${ADMIN_CONSOLE.clientId}`,
      viewer: viewerOf(signedIn, ADMIN_CONSOLE.clientId),
      errors: null,
      ...locals,
    });
  }

  function toSignIn(ctx: Context, options: { acr?: string }) {
    ctx.status = 303;
    ctx.redirect(consoleSignInUrl(deps.issuer, ADMIN_CONSOLE, { ...options, returnTo: ctx.method === 'GET' && ctx.path !== ADMIN_CONSOLE.path ? ctx.path : undefined }));
  }

  router.get('/accesso', async (ctx) => {
    if (typeof ctx.query.error === 'string') {
      return render(ctx, 'message', 403, { title: t('admin.title'), message: t('admin.sign_in_failed') });
    }
    ctx.redirect(consoleReturnPath(ADMIN_CONSOLE, ctx.query.state) ?? ADMIN_CONSOLE.path);
  });

  /** An administrator now, with two factors in this session; a person without the role is told, not made to enrol. */
  const requireAdmin: Middleware = async (ctx: Context, next: Next) => {
    const signedIn = await deps.signedIn(ctx);
    if (!signedIn || !signedIn.session.clientIds.includes(ADMIN_CONSOLE.clientId)) return toSignIn(ctx, {});
    if (!(await deps.administrators.isAdministrator(signedIn.account.id))) {
      return render(ctx, 'message', 403, { title: t('admin.title'), message: t('admin.not_admin') });
    }
    if (!signedIn.session.amr.includes('otp')) return toSignIn(ctx, { acr: ACR.otp });
    ctx.state.admin = signedIn;
    return next();
  };

  router.get('/', requireAdmin, (ctx) => render(ctx, 'home', 200, { title: t('admin.title') }));

  router.get('/registro', requireAdmin, async (ctx) => {
    const query = auditQuery.parse(ctx.query);
    const filter = { actor: query.attore, subject: query.soggetto, action: query.azione, from: query.dal, to: query.al, after: query.dopo };
    const page = await deps.auditViewer.page(filter);
    await deps.audit.record({ actorKind: 'admin', actorId: admin(ctx).account.id, action: 'admin.audit_viewed', outcome: 'success', ...from(ctx), details: { filter } });
    const values = { attore: query.attore ?? '', soggetto: query.soggetto ?? '', azione: query.azione ?? '', dal: query.dal ?? '', al: query.al ?? '' };
    const next = page.next ? `${ADMIN_CONSOLE.path}/registro?${new URLSearchParams({ ...Object.fromEntries(Object.entries(values).filter(([, v]) => v)), dopo: page.next })}` : null;
    return render(ctx, 'audit', 200, {
      title: t('admin.audit.title'),
      values,
      next,
      rows: page.rows.map((r) => ({ ...r, when: formatDateTime(r.occurredAt), details: Object.keys(r.details).length ? JSON.stringify(r.details) : '' })),
    });
  });

  const importPage = (ctx: Context, status: number, locals: { report?: ImportReport | null; error?: string | null; dryRun?: boolean }) =>
    render(ctx, 'import', status, {
      title: t('admin.import.title'),
      action: `${ADMIN_CONSOLE.path}/personale/importazione`,
      dryRun: locals.dryRun ?? true,
      report: locals.report ? reportLocals(locals.report) : null,
      errors: locals.error ? { summary: [locals.error], fields: { file: locals.error } } : null,
    });

  router.get('/personale/importazione', requireAdmin, (ctx) => importPage(ctx, 200, {}));

  const post = [formBody(), guard.verify] as const;
  const ROLES = `${ADMIN_CONSOLE.path}/amministratori`;

  // Administrators: the role granted and revoked here as on the command line (never the last one)
  const rolesPage = async (ctx: Context, status: number, notice: string | null = null, error: string | null = null, username = '') =>
    render(ctx, 'administrators', status, {
      title: t('admin.roles.title'),
      notice,
      username,
      errors: error ? { summary: [error], fields: { username: error } } : null,
      administrators: (await deps.administrators.list()).map((a) => ({ ...a, since: formatDateTime(a.grantedAt), self: a.accountId === admin(ctx).account.id })),
    });

  router.get('/amministratori', requireAdmin, (ctx) => rolesPage(ctx, 200));

  router.post('/amministratori', requireAdmin, ...post, async (ctx) => {
    const username = String((ctx.request.body as Record<string, unknown>).username ?? '').trim().slice(0, 64);
    if (!username) return rolesPage(ctx, 400, null, t('form.field_required'));
    const outcome = await deps.administrators.grant(username, { kind: 'admin', id: admin(ctx).account.id, ...from(ctx) });
    if (outcome === 'no_account') return rolesPage(ctx, 404, null, t('admin.roles.no_account', { username }), username);
    return rolesPage(ctx, 200, t(outcome === 'granted' ? 'admin.roles.granted' : 'admin.roles.already', { username }));
  });

  // revoking takes a confirmation page first
  router.get('/amministratori/revoca', requireAdmin, async (ctx) => {
    const username = typeof ctx.query.username === 'string' ? ctx.query.username.slice(0, 64) : '';
    if (!(await deps.administrators.list()).some((a) => a.username === username)) return rolesPage(ctx, 404, null, t('admin.roles.not_admin', { username }));
    return render(ctx, 'confirm', 200, { title: t('admin.roles.revoke_title'), question: t('admin.roles.revoke_question', { username }), action: `${ROLES}/revoca`, fields: { username }, confirm: t('admin.roles.revoke'), back: ROLES });
  });

  router.post('/amministratori/revoca', requireAdmin, ...post, async (ctx) => {
    const username = String((ctx.request.body as Record<string, unknown>).username ?? '').slice(0, 64);
    const outcome = await deps.administrators.revoke(username, { kind: 'admin', id: admin(ctx).account.id, ...from(ctx) });
    if (outcome === 'revoked') return rolesPage(ctx, 200, t('admin.roles.revoked', { username }));
    return rolesPage(ctx, outcome === 'last_one' ? 409 : 404, null, t(outcome === 'last_one' ? 'admin.roles.last_one' : 'admin.roles.not_admin', { username }));
  });

  // Enablements: a person's requests by codice fiscale; revoke one (after a confirmation page)
  const ENABLEMENTS = `${ADMIN_CONSOLE.path}/abilitazioni`;
  const enablementsPage = async (ctx: Context, status: number, fiscalCode: string, notice: string | null = null) => {
    const valid = validateCodiceFiscale(fiscalCode).valid;
    const error = fiscalCode && !valid ? t('officer.search.fiscal_code_invalid') : null;
    const requests = valid ? await deps.enablements.list(fiscalCode) : null;
    const serviceOf = await deps.serviceDirectory();
    return render(ctx, 'enablements', error ? 400 : status, {
      title: t('admin.enablements.title'),
      fiscalCode,
      notice,
      errors: error ? { summary: [error], fields: { cf: error } } : null,
      requests: requests?.map((r) => ({ number: r.number, service: serviceOf(r.serviceId)?.name ?? r.serviceId, state: t(`area.enablement.state.${r.state === 'revoked' ? 'enabled' : r.state}`), revoked: r.state === 'revoked', since: formatDateTime(r.createdAt) })) ?? null,
    });
  };

  router.get('/abilitazioni', requireAdmin, (ctx) =>
    enablementsPage(ctx, 200, typeof ctx.query.cf === 'string' ? ctx.query.cf.replace(/\s+/g, '').toUpperCase().slice(0, 16) : ''));

  router.get('/abilitazioni/revoca', requireAdmin, (ctx) => {
    const number = typeof ctx.query.numero === 'string' ? ctx.query.numero.slice(0, 32) : '';
    const cf = typeof ctx.query.cf === 'string' ? ctx.query.cf.slice(0, 16) : '';
    return render(ctx, 'confirm', 200, { title: t('admin.enablements.revoke_title'), question: t('admin.enablements.revoke_question', { number }), action: `${ENABLEMENTS}/revoca`, fields: { numero: number, cf }, confirm: t('area.enablement.revoke'), back: `${ENABLEMENTS}?cf=${encodeURIComponent(cf)}` });
  });

  router.post('/abilitazioni/revoca', requireAdmin, ...post, async (ctx) => {
    const body = ctx.request.body as Record<string, unknown>;
    const number = String(body.numero ?? '').slice(0, 32);
    const cf = String(body.cf ?? '').slice(0, 16);
    const outcome = await deps.enablements.revoke(number, { kind: 'admin', id: admin(ctx).account.id });
    if (outcome === 'not_found') return render(ctx, 'message', 404, { title: t('admin.enablements.title'), message: t('admin.enablements.not_found', { number }) });
    return enablementsPage(ctx, 200, cf, t(outcome === 'revoked' ? 'admin.enablements.revoked' : 'admin.enablements.already', { number }));
  });

  servicePages({
    router,
    requireAdmin,
    post,
    verifyCsrf: guard.verify,
    render,
    actor: (ctx) => ({ kind: 'admin', id: admin(ctx).account.id, ...from(ctx), via: 'console' }),
    services: deps.services,
  });

  tokenPages({
    router,
    requireAdmin,
    post,
    render,
    actor: (ctx) => ({ kind: 'admin', id: admin(ctx).account.id, ...from(ctx), via: 'console' }),
    tokens: deps.initialAccessTokens,
  });

  router.post('/personale/importazione', requireAdmin, singleFileUpload('file', MAX_IMPORT_BYTES), guard.verify, async (ctx) => {
    const file = ctx.state.upload as { buffer: Buffer; size: number } | undefined;
    const dryRun = (ctx.request.body as Record<string, unknown>).prova === 'si';
    if (!file || file.size === 0) return importPage(ctx, 400, { error: t('admin.import.no_file'), dryRun });
    const report = await deps.staffImport.run(file.buffer, { dryRun, actor: { kind: 'admin', id: admin(ctx).account.id } });
    const status = report.fileProblem || report.counts.refused > 0 ? 422 : 200;
    return importPage(ctx, status, { report, dryRun });
  });

  return router;
}

function reportLocals(report: ImportReport) {
  const refused = report.lines.filter((l) => l.outcome === 'refused');
  return {
    ...report,
    refusedShown: refused.slice(0, REPORT_LINES_SHOWN).flatMap((l) => (l.problems ?? []).map((p) => ({ line: l.line, field: p.field, message: p.message }))),
    refusedNotShown: Math.max(0, refused.length - REPORT_LINES_SHOWN),
    removedShown: report.removedAssignments.slice(0, REPORT_LINES_SHOWN),
    removedNotShown: Math.max(0, report.removedAssignments.length - REPORT_LINES_SHOWN),
    verdict: report.fileProblem
      ? t('admin.import.file_refused', { problem: report.fileProblem })
      : report.applied
        ? t('admin.import.applied')
        : report.counts.refused > 0
          ? t('admin.import.nothing_changed')
          : t('admin.import.dry_run_ok'),
  };
}
