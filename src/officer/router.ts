import type { ServiceDirectory } from '../services/consoles.js';
import Router from '@koa/router';
import type { Context, Middleware, Next } from 'koa';
import { z } from 'zod';
import { validateCodiceFiscale } from '../accounts/codice-fiscale.js';
import type { Account } from '../accounts/account.js';
import { formBody } from '../http/body.js';
import type { CsrfGuard } from '../http/csrf.js';
import { noStore } from '../http/security-headers.js';
import { viewerOf } from '../http/viewer.js';
import type { RenderPage } from '../http/views.js';
import { t, type MessageKey } from '../i18n/index.js';
import { formatDateTime } from '../mail/templates.js';
import { ACR } from '../accounts/acr.js';
import { consoleSignInUrl, OFFICER_CONSOLE } from '../services/consoles.js';
import type { SignedInReader, SsoSession } from '../provider/sso-session.js';
import { SCHOOL_CODE } from '../staff/csv-format.js';
import type { EmployeeCard, OfficerConsole, OfficerScope } from './service.js';
import type { EnablementService } from '../enablement/service.js';

export interface OfficerRouterDeps {
  console: OfficerConsole;
  /** requests waiting for identification, and their confirmation */
  enablement: Pick<EnablementService, 'awaitingIdentification' | 'confirmIdentification'>;
  /** a service's name by client id */
  /** the services' names, read once per page */
  serviceDirectory: ServiceDirectory;
  signedIn: SignedInReader;
  renderPage: RenderPage;
  /** the console's return address is registered under it */
  issuer: string;
}

/** Who is at the console: set by requireOfficer on every request but the return from the sign-in. */
interface OfficerState {
  account: Account;
  session: SsoSession;
  schools: string[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const fiscalCodeField = z.string().transform((v) => v.replace(/\s+/g, '').toUpperCase()).pipe(
  z.string()
    .min(1, 'officer.search.fiscal_code_required')
    .refine((cf) => validateCodiceFiscale(cf).valid, 'officer.search.fiscal_code_invalid'),
);

/**
 * SIDI Gestione Utenze (issue 14): the security officer's console, a router of its own.
 * Signed in through the provider's SSO session as the console's own client (MI accounts
 * only); two factors required; the officer profile is read from the database at every
 * request, so a withdrawal takes effect at the next click. The school context is part of
 * every URL and every query: nothing is found outside it.
 */
export function createOfficerRouter(deps: OfficerRouterDeps, csrf: (scopeOf: (ctx: Context) => string) => CsrfGuard) {
  const router = new Router({ prefix: OFFICER_CONSOLE.path });
  // forms are bound to the SSO session that rendered them
  const guard = csrf((ctx) => `officer:${(ctx.state.officer as OfficerState | undefined)?.session.uid ?? ''}`);
  const post = [formBody(), guard.verify] as const;
  router.use(noStore, guard.issue);
  const from = (ctx: Context) => ({ ip: ctx.ip, userAgent: ctx.get('user-agent'), requestId: ctx.state.requestId as string | undefined });

  async function render(ctx: Context, view: string, status: number, locals: Record<string, unknown> & { title: string }) {
    const officer = ctx.state.officer as OfficerState | undefined;
    ctx.status = status;
    ctx.type = 'html';
    ctx.body = await deps.renderPage(`officer/${view}`, {
      service: { name: t('officer.service_name'), logo: '/assets/logos/sidi.svg' },
      csrfToken: ctx.state.csrfToken as string,
      officer: officer ? { name: `${officer.account.givenName} ${officer.account.familyName}`, username: officer.account.username } : null,
      school: null,
      consolePath: OFFICER_CONSOLE.path,
      logoutHref: `/session/end?client_id=${OFFICER_CONSOLE.clientId}`,
      viewer: viewerOf(officer, OFFICER_CONSOLE.clientId),
      errors: null,
      ...locals,
    });
  }

  const message = (ctx: Context, status: number, page: { title: string; message: string; tone: 'info' | 'success' | 'warning' | 'danger'; school?: string | null; next?: { href: string; label: string } }) =>
    render(ctx, 'message', status, { school: null, next: null, ...page });

  /**
   * Sent through the provider's sign-in as the console's client. Two factors are asked of an
   * officer whose session has none (officers get them at every sign-in anyway); a person
   * without the profile is not made to enrol only to be told so.
   */
  function toSignIn(ctx: Context, stepUp: boolean) {
    ctx.status = 303;
    ctx.redirect(consoleSignInUrl(deps.issuer, OFFICER_CONSOLE, stepUp ? { acr: ACR.otp } : {}));
  }

  // Back from the sign-in: nothing is taken from this request but an error to show; what
  // counts is the SSO session, read at the next request.
  router.get('/accesso', async (ctx) => {
    const error = typeof ctx.query.error === 'string' ? ctx.query.error : undefined;
    if (!error) return ctx.redirect(OFFICER_CONSOLE.path);
    return message(ctx, 403, {
      title: t('officer.title'),
      message: t(error === 'access_denied' ? 'officer.sign_in_refused' : 'officer.sign_in_failed'),
      tone: 'warning',
      next: { href: OFFICER_CONSOLE.path, label: t('officer.sign_in_again') },
    });
  });

  const requireOfficer: Middleware = async (ctx: Context, next: Next) => {
    const signedIn = await deps.signedIn(ctx);
    // a sign-in that went through this console's own gates (MI accounts only)
    if (!signedIn || !signedIn.session.clientIds.includes(OFFICER_CONSOLE.clientId)) return toSignIn(ctx, false);
    const schools = signedIn.account.type === 'mi' ? await deps.console.schoolsOf(signedIn.account.id) : [];
    ctx.state.officer = { ...signedIn, schools } satisfies OfficerState;
    if (schools.length === 0) {
      return message(ctx, 403, { title: t('officer.title'), message: t('officer.no_profile'), tone: 'warning' });
    }
    if (!signedIn.session.amr.includes('otp')) return toSignIn(ctx, true);
    return next();
  };

  /** The school of the URL, if the officer holds the profile there now; else a recorded refusal. */
  const requireSchool: Middleware = async (ctx: Context, next: Next) => {
    const officer = ctx.state.officer as OfficerState;
    const school = String(ctx.params.school ?? '').toUpperCase();
    const scope: OfficerScope = { officer: officer.account, school };
    if (!SCHOOL_CODE.test(school) || !officer.schools.includes(school)) {
      if (SCHOOL_CODE.test(school)) await deps.console.schoolRefused(scope, from(ctx));
      return message(ctx, 404, { title: t('officer.title'), message: t('officer.school_unknown'), tone: 'warning', next: { href: OFFICER_CONSOLE.path, label: t('officer.choose_school') } });
    }
    ctx.state.scope = scope;
    return next();
  };

  const scopeOf = (ctx: Context) => ctx.state.scope as OfficerScope;
  const schoolPath = (school: string) => `${OFFICER_CONSOLE.path}/scuole/${school}`;
  const employeePath = (school: string, id: string) => `${schoolPath(school)}/dipendenti/${id}`;

  const notFound = (ctx: Context) =>
    message(ctx, 404, {
      title: t('officer.title'),
      message: t('officer.not_found', { school: scopeOf(ctx).school }),
      tone: 'warning',
      school: scopeOf(ctx).school,
      next: { href: schoolPath(scopeOf(ctx).school), label: t('officer.search_again') },
    });

  const atSchool = [requireOfficer, requireSchool] as const;

  router.get('/', requireOfficer, (ctx) => {
    const officer = ctx.state.officer as OfficerState;
    return render(ctx, 'home', 200, { title: t('officer.title'), schools: officer.schools.map((code) => ({ code, href: schoolPath(code) })) });
  });

  const searchPage = (ctx: Context, values: { fiscalCode: string }, errors: { summary: string[]; fields: Record<string, string> } | null, status: number) =>
    render(ctx, 'search', status, { title: t('officer.search.title'), school: scopeOf(ctx).school, values, errors, action: `${schoolPath(scopeOf(ctx).school)}/ricerca` });

  router.get('/scuole/:school', ...atSchool, (ctx) => searchPage(ctx, { fiscalCode: '' }, null, 200));

  router.post('/scuole/:school/ricerca', ...atSchool, ...post, async (ctx) => {
    const typed = String((ctx.request.body as Record<string, unknown>).codice_fiscale ?? '').slice(0, 32);
    const parsed = fiscalCodeField.safeParse(typed);
    if (!parsed.success) {
      const problem = t(parsed.error.issues[0]!.message as MessageKey);
      return searchPage(ctx, { fiscalCode: typed }, { summary: [problem], fields: { codice_fiscale: problem } }, 400);
    }
    const found = await deps.console.search(scopeOf(ctx), parsed.data, from(ctx));
    if (!found) {
      const problem = t('officer.not_found', { school: scopeOf(ctx).school });
      return searchPage(ctx, { fiscalCode: parsed.data }, { summary: [problem], fields: {} }, 404);
    }
    ctx.status = 303;
    ctx.redirect(employeePath(scopeOf(ctx).school, found.id));
  });

  // Abilitazioni: any officer confirms the identification of whoever comes to the school
  // (DOMAIN.md §7), so the search is by codice fiscale across all accounts, and answers only
  // with requests waiting for identification.
  const enablementsPath = (school: string) => `${schoolPath(school)}/abilitazioni`;
  type Awaiting = Awaited<ReturnType<EnablementService['awaitingIdentification']>>;
  const serviceNames = async () => {
    const serviceOf = await deps.serviceDirectory();
    return (id: string) => serviceOf(id)?.name ?? id;
  };
  const enablementsPage = async (ctx: Context, status: number, input: { fiscalCode: string; requests?: Awaiting | null; errors?: { summary: string[]; fields: Record<string, string> } | null; notice?: string | null }) => {
    const serviceName = await serviceNames();
    return render(ctx, 'enablements', status, {
      title: t('officer.enablement.title'),
      school: scopeOf(ctx).school,
      action: `${enablementsPath(scopeOf(ctx).school)}/ricerca`,
      values: { fiscalCode: input.fiscalCode },
      errors: input.errors ?? null,
      notice: input.notice ?? null,
      requests: input.requests?.map((r) => {
        const person = r.person;
        return {
          id: r.id,
          heading: t('officer.enablement.request', { number: r.number, service: serviceName(r.serviceId), date: formatDateTime(r.createdAt) }),
          person: t('officer.enablement.person', { name: `${person.givenName} ${person.familyName}`, birth: person.birthDate.split('-').reverse().join('/') }),
          document: t('officer.enablement.document', { type: t(`enablement.document.${r.document.type}`), number: r.document.number, issuer: r.document.issuer, expiry: r.document.expiry.split('-').reverse().join('/') }),
          action: `${enablementsPath(scopeOf(ctx).school)}/${r.id}/conferma`,
        };
      }) ?? null,
    });
  };

  router.get('/scuole/:school/abilitazioni', ...atSchool, (ctx) => enablementsPage(ctx, 200, { fiscalCode: '' }));

  const findRequests = async (ctx: Context, typed: string, status = 200, notice: string | null = null) => {
    const parsed = fiscalCodeField.safeParse(typed);
    if (!parsed.success) {
      const problem = t(parsed.error.issues[0]!.message as MessageKey);
      return enablementsPage(ctx, 400, { fiscalCode: typed, errors: { summary: [problem], fields: { codice_fiscale: problem } } });
    }
    return enablementsPage(ctx, status, { fiscalCode: parsed.data, requests: await deps.enablement.awaitingIdentification(parsed.data), notice });
  };

  router.post('/scuole/:school/abilitazioni/ricerca', ...atSchool, ...post, (ctx) =>
    findRequests(ctx, String((ctx.request.body as Record<string, unknown>).codice_fiscale ?? '').slice(0, 32)));

  router.post('/scuole/:school/abilitazioni/:id/conferma', ...atSchool, ...post, async (ctx) => {
    const body = ctx.request.body as Record<string, unknown>;
    const fiscalCode = String(body.codice_fiscale ?? '').slice(0, 32);
    if (body.verificato !== 'si') {
      const problem = t('officer.enablement.checked_missing');
      const found = await deps.enablement.awaitingIdentification(fiscalCode.toUpperCase());
      return enablementsPage(ctx, 400, { fiscalCode, requests: found, errors: { summary: [problem], fields: {} } });
    }
    const outcome = UUID.test(ctx.params.id!)
      ? await deps.enablement.confirmIdentification({ requestId: ctx.params.id!, officer: (ctx.state.officer as OfficerState).account, where: scopeOf(ctx).school, service: await serviceNames() }, from(ctx))
      : { ok: false as const, problem: 'not_found' as const };
    if (!outcome.ok) {
      return message(ctx, outcome.problem === 'not_found' ? 404 : outcome.problem === 'own_request' ? 403 : 409, {
        title: t('officer.enablement.title'),
        message: t(outcome.problem === 'not_found' ? 'officer.enablement.not_found' : outcome.problem === 'own_request' ? 'officer.enablement.own_request' : 'officer.enablement.already'),
        tone: 'warning',
        school: scopeOf(ctx).school,
        next: { href: enablementsPath(scopeOf(ctx).school), label: t('officer.search_again') },
      });
    }
    return findRequests(ctx, fiscalCode, 200, t('officer.enablement.confirmed', { number: outcome.enablement.number }));
  });

  const cardLocals = (ctx: Context, employee: EmployeeCard) => ({
    school: scopeOf(ctx).school,
    employee: employeeLocals(employee),
    cardHref: employeePath(scopeOf(ctx).school, employee.id),
    resetHref: `${employeePath(scopeOf(ctx).school, employee.id)}/reimposta-password`,
    searchHref: schoolPath(scopeOf(ctx).school),
  });

  router.get('/scuole/:school/dipendenti/:id', ...atSchool, async (ctx) => {
    const employee = UUID.test(ctx.params.id!) ? await deps.console.card(scopeOf(ctx), ctx.params.id!, from(ctx)) : undefined;
    if (!employee) return notFound(ctx);
    return render(ctx, 'card', 200, { title: t('officer.card.title'), ...cardLocals(ctx, employee) });
  });

  router.get('/scuole/:school/dipendenti/:id/reimposta-password', ...atSchool, async (ctx) => {
    const employee = UUID.test(ctx.params.id!) ? await deps.console.card(scopeOf(ctx), ctx.params.id!, from(ctx)) : undefined;
    if (!employee) return notFound(ctx);
    const officer = ctx.state.officer as OfficerState;
    return render(ctx, 'reset-confirm', 200, {
      title: t('officer.reset.title'),
      ...cardLocals(ctx, employee),
      sendTo: officer.account.institutionalEmail ?? officer.account.personalEmail,
    });
  });

  router.post('/scuole/:school/dipendenti/:id/reimposta-password', ...atSchool, ...post, async (ctx) => {
    if (!UUID.test(ctx.params.id!)) return notFound(ctx);
    const outcome = await deps.console.resetPassword(scopeOf(ctx), ctx.params.id!, from(ctx));
    if (!outcome.ok && outcome.problem === 'not_found') return notFound(ctx);
    if (!outcome.ok) {
      return render(ctx, 'card', 409, {
        title: t('officer.card.title'),
        ...cardLocals(ctx, outcome.employee),
        errors: { summary: [t(`officer.reset.refused.${outcome.problem}`)], fields: {} },
      });
    }
    return render(ctx, 'reset-done', 200, {
      title: t('officer.reset.done_title'),
      ...cardLocals(ctx, outcome.employee),
      sentTo: outcome.sentTo,
      validUntil: formatDateTime(outcome.validUntil),
    });
  });

  return router;
}

function employeeLocals(employee: EmployeeCard) {
  return {
    ...employee,
    name: `${employee.givenName} ${employee.familyName}`,
    typeLabel: t(`officer.card.type.${employee.type}`),
    mailboxLabel: employee.mailboxState ?? t('officer.card.no_mailbox'),
    roles: employee.roles.map((r) => t(`officer.role.${r.role}`) + (r.securityOfficer ? ` (${t('officer.role.security_officer')})` : '')),
    statusLabel: t(`officer.card.status.${employee.status}`),
    passwordLabel: employee.password.temporary
      ? t('officer.card.password_temporary', { until: formatDateTime(employee.password.expiresAt!) })
      : employee.password.expired
        ? t('officer.card.password_expired', { since: formatDateTime(employee.password.expiresAt!) })
        : employee.password.expiresAt
          ? t('officer.card.password_valid', { until: formatDateTime(employee.password.expiresAt) })
          : t('officer.card.password_no_expiry'),
    lockLabel: employee.lock
      ? t(employee.lock.unlockRequired ? 'officer.card.locked_until_reset' : 'officer.card.locked_until', { until: formatDateTime(employee.lock.until) })
      : t('officer.card.not_locked'),
    resetBlockedLabel: employee.resetBlockedBy ? t(`officer.reset.refused.${employee.resetBlockedBy}`) : null,
  };
}
