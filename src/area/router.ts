import Router from '@koa/router';
import type { Context, Middleware, Next } from 'koa';
import type { SecondFactor } from '../accounts/second-factor.js';
import type { AuditLog } from '../audit/audit-log.js';
import { formBody } from '../http/body.js';
import type { CsrfGuard } from '../http/csrf.js';
import { noStore } from '../http/security-headers.js';
import { viewerOf } from '../http/viewer.js';
import type { RenderPage } from '../http/views.js';
import { t } from '../i18n/index.js';
import { formatDateTime } from '../mail/templates.js';
import { AREA_RISERVATA, consoleReturnPath, consoleSignInUrl } from '../provider/console-clients.js';
import type { SignedIn, SignedInReader } from '../provider/sso-session.js';
import type { SessionLedger } from '../provider/session-ledger.js';
import type { SignInNoticeSetting } from './sign-in-notice.js';
import { isMessageKey } from '../i18n/index.js';
import { referenceEmail } from '../accounts/account.js';
import type { PasswordRule } from '../accounts/password-policy.js';
import { changeForm, missingFields, refusalErrors, type FormErrors } from '../interactions/gates/password-change.js';
import type { ChangeOwnPassword } from './own-password.js';
import type { ActivityReader } from './activity.js';
import { personalEmail, EMAIL_CODE_MINUTES, type EmailChange } from './email-change.js';
import { checkContactForm, contactFormOf, type ChangeContactData, type ContactForm } from './contact-data.js';
import { COUNTRIES, PROVINCES, countryName, ITALY } from '../accounts/residence.js';
import { formatPhone } from '../accounts/phone-numbers.js';
import type { PostalAddress } from '../accounts/account.js';

/** What the Area riservata does beyond reading the account (built in server.ts). */
export interface AreaServices {
  activity: ActivityReader;
  changeOwnPassword: ChangeOwnPassword;
  changeContactData: ChangeContactData;
  emailChange: EmailChange;
  sessionLedger: SessionLedger;
  signInNotice: SignInNoticeSetting;
}

export interface AreaRouterDeps extends AreaServices {
  secondFactor: SecondFactor;
  /** a service's name and logo by its client id */
  serviceOf: (clientId: string) => { name: string; logo?: string } | undefined;
  passwordRules: () => PasswordRule[];
  signedIn: SignedInReader;
  renderPage: RenderPage;
  issuer: string;
  /** a sensitive change needs a sign-in at most this old */
  freshSignInMinutes: number;
  audit: AuditLog;
  now?: () => Date;
}

const HOME = AREA_RISERVATA.path;
const SECURITY_PAGE = `${AREA_RISERVATA.path}/verifica-in-due-passaggi`;
const PASSWORD_PAGE = `${AREA_RISERVATA.path}/password`;
const EMAIL_PAGE = `${AREA_RISERVATA.path}/email`;
const SESSIONS_PAGE = `${AREA_RISERVATA.path}/sessioni`;

/** The page whose form a POST came from: where a new sign-in brings the person back. */
function formPageOf(path: string): string {
  return [PASSWORD_PAGE, SECURITY_PAGE, EMAIL_PAGE, SESSIONS_PAGE].find((page) => path.startsWith(page)) ?? HOME;
}

/**
 * The Area riservata: the person's own account, signed in through the provider's SSO session
 * as the provider's own client. Their data; the password; the second factor (on, new
 * recovery codes, off). Every change needs a recent sign-in (two factors included, when on),
 * else the person signs in again and comes back to the page.
 */
export function createAreaRouter(deps: AreaRouterDeps, csrf: (scopeOf: (ctx: Context) => string) => CsrfGuard) {
  const router = new Router({ prefix: AREA_RISERVATA.path });
  const now = deps.now ?? (() => new Date());
  // forms are bound to the SSO session that rendered them
  const guard = csrf((ctx) => `area:${(ctx.state.person as SignedIn | undefined)?.session.uid ?? ''}`);
  const post = [formBody(), guard.verify] as const;
  router.use(noStore, guard.issue);
  const from = (ctx: Context) => ({ ip: ctx.ip, userAgent: ctx.get('user-agent') });
  const person = (ctx: Context) => ctx.state.person as SignedIn;

  function toSignIn(ctx: Context, options: { fresh?: boolean; returnTo?: string }) {
    ctx.status = 303;
    ctx.redirect(consoleSignInUrl(deps.issuer, AREA_RISERVATA, options));
  }

  async function render(ctx: Context, view: string, status: number, locals: Record<string, unknown> & { title: string }) {
    const signedIn = ctx.state.person as SignedIn | undefined;
    ctx.status = status;
    ctx.type = 'html';
    ctx.body = await deps.renderPage(`area/${view}`, {
      csrfToken: ctx.state.csrfToken as string,
      person: signedIn ? { username: signedIn.account.username } : null,
      viewer: viewerOf(signedIn),
      errors: null,
      notice: null,
      ...locals,
    });
  }

  // Back from the sign-in: to the page that sent the person, if it is one of ours.
  router.get('/accesso', async (ctx) => {
    if (typeof ctx.query.error === 'string') {
      return render(ctx, 'message', 403, { title: t('area.title'), message: t('area.sign_in_failed'), next: { href: HOME, label: t('area.sign_in_again') } });
    }
    ctx.redirect(consoleReturnPath(AREA_RISERVATA, ctx.query.state) ?? HOME);
  });

  /** Signed in through this console's client (its gates passed); else off to the sign-in and back here. */
  const requireSignedIn: Middleware = async (ctx: Context, next: Next) => {
    const signedIn = await deps.signedIn(ctx);
    if (!signedIn || !signedIn.session.clientIds.includes(AREA_RISERVATA.clientId)) {
      return toSignIn(ctx, { returnTo: ctx.method === 'GET' && ctx.path !== HOME ? ctx.path : undefined });
    }
    ctx.state.person = signedIn;
    return next();
  };

  /** A sign-in younger than the configured age; else a new one (password, and code when on), back to the page. */
  const requireFresh: Middleware = async (ctx: Context, next: Next) => {
    const age = now().getTime() / 1000 - person(ctx).session.loginTs;
    if (age > deps.freshSignInMinutes * 60) return toSignIn(ctx, { fresh: true, returnTo: ctx.method === 'GET' ? ctx.path : formPageOf(ctx.path) });
    return next();
  };

  async function securityPage(ctx: Context, status = 200, notice: string | null = null) {
    const overview = await deps.secondFactor.overview(person(ctx).account.id);
    return render(ctx, 'second-factor', status, {
      title: t('area.second_factor.title'),
      notice,
      enrolledAt: overview.enrolledAt ? formatDateTime(overview.enrolledAt) : null,
      recoveryCodesLeft: overview.recoveryCodesLeft,
      officer: overview.officer,
    });
  }

  router.get('/', requireSignedIn, async (ctx) => {
    const account = person(ctx).account;
    const reference = referenceEmail(account);
    return render(ctx, 'home', 200, {
      title: t('area.title'),
      me: {
        name: `${account.givenName} ${account.familyName}`,
        fiscalCode: account.fiscalCode,
        birth: t('area.home.birth_value', { date: account.birthDate.split('-').reverse().join('/'), place: account.birthPlace }),
        sex: account.sex,
        username: account.username,
        type: t(account.type === 'mi' ? 'officer.card.type.mi' : 'officer.card.type.standard'),
        institutionalEmail: account.institutionalEmail,
        mailboxState: account.mailboxState,
        personalEmail: account.personalEmail,
        reference: reference?.address === account.institutionalEmail ? 'institutional' : reference ? 'personal' : null,
        passwordExpires: account.passwordExpiresAt ? formatDateTime(account.passwordExpiresAt) : null,
        mobile: account.mobilePhone && formatPhone(account.mobilePhone),
        homePhone: account.homePhone && formatPhone(account.homePhone),
        residence: residenceLine(account.address),
      },
    });
  });

  const contactsPage = (ctx: Context, status: number, form: ContactForm, errors: Partial<Record<string, string>> | null, notice: string | null = null) =>
    render(ctx, 'contacts', status, {
      title: t('area.contacts.title'),
      form,
      countries: COUNTRIES,
      provinces: PROVINCES,
      notice,
      errors: errors ? { summary: Object.values(errors), fields: errors } : null,
    });

  router.get('/recapiti', requireSignedIn, (ctx) => contactsPage(ctx, 200, contactFormOf(person(ctx).account), null));

  router.post('/recapiti', requireSignedIn, ...post, async (ctx) => {
    const check = checkContactForm((ctx.request.body ?? {}) as Record<string, unknown>);
    if (!check.ok) return contactsPage(ctx, 400, check.form, check.errors);
    const changed = await deps.changeContactData(person(ctx).account.id, check.data, from(ctx));
    if (!changed) return toSignIn(ctx, {});
    const account = { ...person(ctx).account, mobilePhone: check.data.mobilePhone, homePhone: check.data.homePhone, address: { street: check.data.street, postalCode: check.data.postalCode, country: check.data.country, province: check.data.province, municipality: check.data.municipality } };
    return contactsPage(ctx, 200, contactFormOf(account), null, t(changed.length ? 'area.contacts.saved' : 'area.contacts.unchanged'));
  });

  const emailPage = (ctx: Context, status: number, value: string, error: string | null = null, notice: string | null = null) => {
    const account = person(ctx).account;
    return render(ctx, 'email', status, {
      title: t('area.email.title'),
      current: account.personalEmail,
      institutional: account.institutionalEmail,
      value,
      notice,
      errors: error ? { summary: [error], fields: { email: error } } : null,
    });
  };

  const codePage = async (ctx: Context, status: number, error: string | null = null, notice: string | null = null) => {
    const pending = await deps.emailChange.pending(person(ctx).account.id);
    if (!pending) return ctx.redirect(EMAIL_PAGE);
    return render(ctx, 'email-code', status, {
      title: t('area.email.code_title'),
      pending,
      minutes: EMAIL_CODE_MINUTES,
      notice,
      errors: error ? { summary: [error], fields: { code: error } } : null,
    });
  };

  router.get('/email', requireSignedIn, requireFresh, (ctx) => emailPage(ctx, 200, ''));

  router.post('/email', requireSignedIn, requireFresh, ...post, async (ctx) => {
    const typed = String((ctx.request.body as Record<string, unknown>).email ?? '').slice(0, 320);
    const parsed = personalEmail.safeParse(typed);
    if (!parsed.success) {
      const institutional = parsed.error.issues.some((issue) => issue.message === 'institutional');
      return emailPage(ctx, 400, typed, t(institutional ? 'area.email.error.institutional' : 'area.email.error.invalid'));
    }
    const resend = (await deps.emailChange.pending(person(ctx).account.id))?.newEmail === parsed.data;
    const outcome = await deps.emailChange.request(person(ctx).account, parsed.data, from(ctx));
    if (outcome.ok) {
      if (resend) return codePage(ctx, 200, null, t('area.email.resent'));
      ctx.status = 303;
      return ctx.redirect(`${EMAIL_PAGE}/codice`);
    }
    const seconds = outcome.retryAfterSeconds ?? 60;
    const message = outcome.problem === 'same_address' ? t('area.email.error.same')
      : outcome.problem === 'too_soon' ? t('area.email.error.too_soon', { seconds })
      : t('area.email.error.throttled', { minutes: Math.ceil(seconds / 60) });
    return emailPage(ctx, outcome.problem === 'same_address' ? 400 : 429, typed, message);
  });

  router.get('/email/codice', requireSignedIn, requireFresh, (ctx) => codePage(ctx, 200));

  router.post('/email/codice', requireSignedIn, requireFresh, ...post, async (ctx) => {
    const code = String((ctx.request.body as Record<string, unknown>).code ?? '').replace(/\s+/g, '').slice(0, 12);
    if (!/^\d{6}$/.test(code)) return codePage(ctx, 400, t(code ? 'area.email.error.code_format' : 'form.field_required'));
    const check = await deps.emailChange.confirm(person(ctx).account, code, from(ctx));
    if (check.ok) {
      ctx.state.person = { ...person(ctx), account: check.account };
      return emailPage(ctx, 200, '', null, t('area.email.changed', { address: check.account.personalEmail ?? '' }));
    }
    if (check.problem === 'missing') return emailPage(ctx, 409, '', t('area.email.error.expired'));
    if (check.problem === 'wrong') return codePage(ctx, 422, t('area.email.error.wrong', { tries: check.triesLeft }));
    return emailPage(ctx, 422, '', t(check.problem === 'expired' ? 'area.email.error.expired' : 'area.email.error.exhausted'));
  });

  const notFound = (ctx: Context, message: string, back: string) =>
    render(ctx, 'message', 404, { title: t('area.not_found_title'), message, next: { href: back, label: t('area.back') } });
  const serviceName = (clientId: string) => deps.serviceOf(clientId)?.name ?? clientId;

  const sessionsPage = async (ctx: Context, status: number, notice: string | null = null) => {
    const sessions = await deps.sessionLedger.sessions(person(ctx).account.id, person(ctx).session.id);
    return render(ctx, 'sessions', status, {
      title: t('area.sessions.title'),
      notice,
      sessions: sessions.map((s) => ({
        handle: s.handle,
        current: s.current,
        browser: s.browser,
        device: t(`area.device.${s.device}`),
        ip: s.ip,
        started: formatDateTime(s.startedAt),
        lastSeen: formatDateTime(s.current ? now() : s.lastSeen ?? s.startedAt),
        services: s.clientIds.map(serviceName).join(', '),
      })),
    });
  };

  router.get('/sessioni', requireSignedIn, (ctx) => sessionsPage(ctx, 200));

  router.post('/sessioni/termina', requireSignedIn, requireFresh, ...post, async (ctx) => {
    const handle = String((ctx.request.body as Record<string, unknown>).session ?? '').slice(0, 64);
    // this browser's own session is ended by signing out, not from the list
    const own = (await deps.sessionLedger.sessions(person(ctx).account.id, person(ctx).session.id)).find((s) => s.current)?.handle;
    const ended = handle && handle !== own ? await deps.sessionLedger.end(person(ctx).account.id, { handle }) : undefined;
    if (!ended) return notFound(ctx, t('area.sessions.not_found'), SESSIONS_PAGE);
    await auditEnded(ctx, 'account.session_ended', { sessions: ended.sessions, grants: ended.grants });
    return sessionsPage(ctx, 200, t('area.sessions.ended'));
  });

  router.post('/sessioni/termina-altre', requireSignedIn, requireFresh, ...post, async (ctx) => {
    const ended = (await deps.sessionLedger.end(person(ctx).account.id, { allBut: person(ctx).session.id }))!;
    await auditEnded(ctx, 'account.other_sessions_ended', { reason: 'requested', sessions: ended.sessions, grants: ended.grants });
    return sessionsPage(ctx, 200, t('area.sessions.ended_others', { sessions: ended.sessions }));
  });

  const scopeLabel = (scope: string) => {
    const key = `area.scope.${scope}`;
    return isMessageKey(key) ? t(key) : scope;
  };

  const servicesPage = async (ctx: Context, status: number, notice: string | null = null) => {
    const services = await deps.sessionLedger.services(person(ctx).account.id);
    return render(ctx, 'services', status, {
      title: t('area.services.title'),
      notice,
      services: services.map((s) => ({
        clientId: s.clientId,
        name: serviceName(s.clientId),
        logo: deps.serviceOf(s.clientId)?.logo,
        firstUse: formatDateTime(s.firstUse),
        lastUse: formatDateTime(s.lastUse),
        scopes: s.scopes.map(scopeLabel).join(', '),
      })),
    });
  };

  router.get('/servizi', requireSignedIn, (ctx) => servicesPage(ctx, 200));

  router.post('/servizi/revoca', requireSignedIn, ...post, async (ctx) => {
    const clientId = String((ctx.request.body as Record<string, unknown>).service ?? '').slice(0, 200);
    const revoked = clientId ? await deps.sessionLedger.revokeService(person(ctx).account.id, clientId) : undefined;
    if (!revoked) return notFound(ctx, t('area.services.not_found'), `${HOME}/servizi`);
    await deps.audit.record({
      actorKind: 'user', actorId: person(ctx).account.id, subjectId: person(ctx).account.id, action: 'account.service_revoked', outcome: 'success',
      ip: ctx.ip, userAgent: ctx.get('user-agent'), clientId, details: { grants: revoked.grants, notified: revoked.notified },
    });
    return servicesPage(ctx, 200, t('area.services.revoked', { name: serviceName(clientId) }));
  });

  async function auditEnded(ctx: Context, action: string, details: Record<string, unknown>) {
    await deps.audit.record({ actorKind: 'user', actorId: person(ctx).account.id, subjectId: person(ctx).account.id, action, outcome: 'success', ip: ctx.ip, userAgent: ctx.get('user-agent'), details });
  }

  const activityPage = async (ctx: Context, notice: string | null = null) => {
    const records = await deps.activity.recentSignIns(person(ctx).account.id);
    return render(ctx, 'activity', 200, {
      title: t('area.activity.title'),
      notice,
      signInNotice: person(ctx).account.signInNotice,
      records: records.map((r) => ({
        when: formatDateTime(r.at),
        service: (r.clientId && deps.serviceOf(r.clientId)?.name) ?? t('area.activity.unknown_service'),
        ip: r.ip ?? '',
        ok: r.outcome === 'success',
        outcome: t(r.outcome === 'success' ? 'area.activity.success' : r.reason === 'wrong_password' ? 'area.activity.wrong_password' : 'area.activity.refused'),
      })),
    });
  };

  router.get('/attivita', requireSignedIn, (ctx) => activityPage(ctx));

  router.post('/attivita/avviso', requireSignedIn, ...post, async (ctx) => {
    const on = (ctx.request.body as Record<string, unknown>).avviso === 'si';
    await deps.signInNotice(person(ctx).account.id, on, from(ctx));
    ctx.state.person = { ...person(ctx), account: { ...person(ctx).account, signInNotice: on } };
    return activityPage(ctx, t(on ? 'area.notice.turned_on' : 'area.notice.turned_off'));
  });

  const passwordPage = (ctx: Context, status: number, locals: { errors?: FormErrors | null; signOutOthers?: boolean; done?: string | null } = {}) =>
    render(ctx, 'password', status, {
      title: t('area.password.title'),
      passwordRules: deps.passwordRules(),
      askCurrent: true,
      errors: locals.errors ?? null,
      signOutOthers: locals.signOutOthers ?? true,
      notice: locals.done ?? null,
    });

  router.get('/password', requireSignedIn, requireFresh, (ctx) => passwordPage(ctx, 200));

  router.post('/password', requireSignedIn, requireFresh, ...post, async (ctx) => {
    const body = (ctx.request.body ?? {}) as Record<string, unknown>;
    const parsed = changeForm.safeParse(body);
    const values = parsed.success ? parsed.data : { current: undefined, next: '', confirm: '' };
    // a checkbox left unticked is not sent at all
    const signOutOthers = body.altre_sessioni === 'si';
    const missing = missingFields(values, { askCurrent: true }, t);
    if (missing) return passwordPage(ctx, 400, { errors: missing, signOutOthers });
    const outcome = await deps.changeOwnPassword(person(ctx), { current: values.current!, next: values.next }, { signOutOthers }, from(ctx));
    if (!outcome.ok) return passwordPage(ctx, outcome.problem === 'not_found' ? 409 : 422, { errors: refusalErrors(outcome, t), signOutOthers });
    const done = outcome.ended
      ? t('area.password.done_others', { sessions: outcome.ended.sessions, grants: outcome.ended.grants })
      : t('area.password.done');
    return passwordPage(ctx, 200, { done, signOutOthers });
  });
  router.get('/verifica-in-due-passaggi', requireSignedIn, (ctx) => securityPage(ctx));

  const enrolPage = async (ctx: Context, status: number, error?: string) => {
    const account = person(ctx).account;
    const enrolment = await deps.secondFactor.enrolment(account);
    return render(ctx, 'second-factor-enrol', status, {
      title: t('gate.second_factor.enrol_title'),
      enrolment: {
        intro: t('gate.second_factor.enrol_intro'),
        qrSvg: enrolment.qrSvg,
        secret: enrolment.secret.replace(/(.{4})/g, '$1 ').trim(),
        recoveryCodes: enrolment.recoveryCodes,
      },
      errors: error ? { summary: [error], fields: { code: error } } : null,
    });
  };

  router.get('/verifica-in-due-passaggi/attiva', requireSignedIn, requireFresh, async (ctx) => {
    if ((await deps.secondFactor.overview(person(ctx).account.id)).enrolledAt) return ctx.redirect(SECURITY_PAGE);
    return enrolPage(ctx, 200);
  });

  router.post('/verifica-in-due-passaggi/attiva', requireSignedIn, requireFresh, ...post, async (ctx) => {
    const code = String((ctx.request.body as Record<string, unknown>).code ?? '').slice(0, 64);
    if (!code.trim()) return enrolPage(ctx, 400, t('form.field_required'));
    const check = await deps.secondFactor.confirm(person(ctx).account.id, code, from(ctx));
    if (check.ok) return securityPage(ctx, 200, t('area.second_factor.enrolled'));
    if (check.reason === 'not_enrolled') return securityPage(ctx, 409, t('area.second_factor.already_on'));
    if (check.reason === 'throttled') return enrolPage(ctx, 429, t('gate.second_factor.throttled', { minutes: Math.ceil(check.retryAfterSeconds / 60) }));
    return enrolPage(ctx, 422, t('gate.second_factor.wrong_code'));
  });

  router.post('/verifica-in-due-passaggi/codici', requireSignedIn, requireFresh, ...post, async (ctx) => {
    const codes = await deps.secondFactor.regenerateRecoveryCodes(person(ctx).account.id, from(ctx));
    if (!codes) return securityPage(ctx, 409, t('area.second_factor.not_on'));
    return render(ctx, 'recovery-codes', 200, { title: t('area.second_factor.codes_title'), codes });
  });

  router.get('/verifica-in-due-passaggi/disattiva', requireSignedIn, requireFresh, async (ctx) => {
    const overview = await deps.secondFactor.overview(person(ctx).account.id);
    if (!overview.enrolledAt) return ctx.redirect(SECURITY_PAGE);
    if (overview.officer) return securityPage(ctx, 409, t('area.second_factor.required_for_officers'));
    return render(ctx, 'second-factor-remove', 200, { title: t('area.second_factor.remove_title') });
  });

  router.post('/verifica-in-due-passaggi/disattiva', requireSignedIn, requireFresh, ...post, async (ctx) => {
    const outcome = await deps.secondFactor.remove(person(ctx).account.id, from(ctx));
    if (outcome === 'required') return securityPage(ctx, 409, t('area.second_factor.required_for_officers'));
    return securityPage(ctx, 200, t(outcome === 'removed' ? 'area.second_factor.removed' : 'area.second_factor.not_on'));
  });

  return router;
}

/** "Via Roma 1, 00100 Roma (RM), Italia" */
function residenceLine(a: PostalAddress): string {
  const place = [a.postalCode, a.municipality && (a.province && a.country === ITALY ? `${a.municipality} (${a.province})` : a.municipality)].filter(Boolean).join(' ');
  return [a.street, place, a.country && (countryName(a.country) ?? a.country)].filter(Boolean).join(', ');
}
