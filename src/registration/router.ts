import Router from '@koa/router';
import type { Context, Middleware, Next } from 'koa';
import type Provider from 'oidc-provider';
import { z } from 'zod';
import { toE164 } from '../accounts/phone-numbers.js';
import { baseUsername } from '../accounts/username.js';
import type { PasswordRule } from '../accounts/password-policy.js';
import type { CsrfGuard } from '../http/csrf.js';
import { formBody } from '../http/body.js';
import { noStore } from '../http/security-headers.js';
import type { RenderPage } from '../http/views.js';
import { t, type MessageKey } from '../i18n/index.js';
import { brokenRuleMessage } from '../interactions/gates/password-change.js';
import { ACR } from '../accounts/acr.js';
import { serviceFromClient } from '../services/catalogue.js';
import { resolveBirthPlace } from './places.js';
import type { FiscalCodeProblem, RegistrationService } from './service.js';
import { REGISTRATION_STEPS, stepIndex, type Registration, type RegistrationStep } from './store.js';

export interface RegistrationRouterDeps {
  registration: RegistrationService;
  provider: Provider;
  renderPage: RenderPage;
  passwordRules: () => PasswordRule[];
  /** SELF_REGISTRATION: when false every route answers 404 */
  enabled: boolean;
  /** cookies Secure (https issuer) */
  secure: boolean;
}

/** The attempt's random id; path / because the last step passes through /interaction/<uid>/… */
export const REGISTRATION_COOKIE = 'iam_registration';
const INTERACTION_UID = /^[\w-]{10,64}$/;

const PATHS: Record<RegistrationStep, string> = {
  identity: '/registrazione/dati',
  fiscal_code: '/registrazione/codice-fiscale',
  email: '/registrazione/email',
  code: '/registrazione/verifica',
  privacy: '/registrazione/privacy',
  username: '/registrazione/username',
  password: '/registrazione/password',
  done: '/registrazione/fine',
};

type FieldErrors = Record<string, string | undefined>;
interface FormErrors {
  summary: string[];
  fields: FieldErrors;
}

// Each field's schema carries the catalogue key of its message, which names the field.
const nameField = (key: MessageKey) => z.string().transform((v) => v.trim().replace(/\s+/g, ' '))
  .pipe(z.string().min(1, key).max(60, key).regex(/^\p{L}[\p{L}\p{M}' .-]*$/u, key));
const identityForm = z.object({
  given_name: nameField('registration.error.given_name'),
  family_name: nameField('registration.error.family_name'),
  sex: z.enum(['M', 'F'], 'registration.error.sex'),
  birth_date: z.string().transform((v, ctx) => {
    const iso = isoDate(v.trim());
    if (!iso) ctx.addIssue({ code: 'custom', message: 'registration.error.birth_date' });
    return iso ?? '';
  }).refine((iso) => !iso || (iso >= '1900-01-01' && iso < new Date().toISOString().slice(0, 10)), 'registration.error.birth_date_range'),
  born_in: z.enum(['italy', 'abroad'], 'registration.error.born_in'),
  comune: z.string().max(80).catch(''),
  province: z.string().max(8).catch(''),
  country: z.string().max(80).catch(''),
});
const fiscalCodeForm = z.object({
  codice_fiscale: z.string().transform((v) => v.replace(/\s+/g, '').toUpperCase()).pipe(z.string().min(1, 'registration.error.fiscal_code').max(16, 'registration.error.fiscal_code')),
});
const emailForm = z.object({
  email: z.string().trim().toLowerCase().pipe(z.email('registration.error.email').max(254, 'registration.error.email'))
    .refine((e) => !/@(posta\.)?istruzione\.it$/.test(e), 'registration.error.email_institutional'),
  // stored in E.164 as the Area riservata stores it; '!invalid' is told under the field
  mobile: z.string().trim().transform((v) => (v ? toE164(v, 'mobile') ?? '!invalid' : '')).catch('!invalid'),
});
const codeForm = z.object({ code: z.string().trim().regex(/^\d{6}$/, 'registration.error.code') });
const privacyForm = z.object({ privacy: z.literal('si', 'registration.error.privacy') });

const REQUIRED: Record<string, MessageKey> = {
  given_name: 'registration.error.given_name',
  family_name: 'registration.error.family_name',
  sex: 'registration.error.sex',
  birth_date: 'registration.error.birth_date',
  born_in: 'registration.error.born_in',
  codice_fiscale: 'registration.error.fiscal_code',
  email: 'registration.error.email',
  code: 'registration.error.code',
  privacy: 'registration.error.privacy',
};

const CF_MESSAGES: Record<FiscalCodeProblem, MessageKey> = {
  'cf.format': 'registration.error.fiscal_code',
  'cf.check_character': 'registration.error.fiscal_code',
  'cf.birth_date_invalid': 'registration.error.fiscal_code',
  'cf.surname_mismatch': 'registration.error.cf_surname',
  'cf.name_mismatch': 'registration.error.cf_name',
  'cf.birth_date_mismatch': 'registration.error.cf_birth_date',
  'cf.sex_mismatch': 'registration.error.cf_sex',
  'cf.place_mismatch': 'registration.error.cf_place',
};

/**
 * Registrati (DOMAIN.md §3, §5): six steps under /registrazione, resumable from the cookie
 * for 24 hours, each a form with its own CSRF scope; then back, signed in, to the sign-in
 * the browser came from (through /interaction/<uid>/registrazione, where its cookie is sent).
 */
export function createRegistrationRouter(deps: RegistrationRouterDeps, csrf: CsrfGuard) {
  const router = new Router();
  const enabled = async (ctx: Context, next: Next) => {
    if (!deps.enabled) ctx.throw(404);
    await next();
  };
  const pages: Middleware[] = [enabled, noStore, csrf.issue];
  const post = [formBody(), csrf.verify] as const;
  const from = (ctx: Context) => ({ ip: ctx.ip, userAgent: ctx.get('user-agent'), requestId: ctx.state.requestId as string | undefined });
  const cookie = (ctx: Context) => ctx.cookies.get(REGISTRATION_COOKIE);
  const setCookie = (ctx: Context, token: string | null) =>
    ctx.cookies.set(REGISTRATION_COOKIE, token, { httpOnly: true, sameSite: 'lax', secure: deps.secure, path: '/', maxAge: token ? 24 * 60 * 60 * 1000 : 0, overwrite: true });

  async function serviceOf(uid: string | null | undefined) {
    if (!uid || !INTERACTION_UID.test(uid)) return null;
    const interaction = await deps.provider.Interaction.find(uid);
    const clientId = interaction?.params.client_id;
    const client = typeof clientId === 'string' ? await deps.provider.Client.find(clientId) : undefined;
    return client ? serviceFromClient(client) : null;
  }

  async function page(ctx: Context, view: string, status: number, locals: Record<string, unknown> & { title: string }, returnUid?: string | null) {
    const service = await serviceOf(returnUid);
    ctx.status = status;
    ctx.type = 'html';
    ctx.body = await deps.renderPage(`registration/${view}`, {
      csrfToken: ctx.state.csrfToken as string,
      errors: null,
      values: {},
      service: service ? { name: service.name, logo: service.logo } : null,
      back: service && returnUid
        ? { href: `/interaction/${returnUid}`, label: t('recovery.back_to_login', { service: service.name }) }
        : { href: '/', label: t('recovery.back_home') },
      ...locals,
    });
  }

  const expired = (ctx: Context) => page(ctx, 'message', 410, {
    title: t('registration.expired_title'), message: t('registration.expired'), tone: 'warning',
    next: { href: '/registrazione', label: t('registration.restart') },
  });

  const form = (ctx: Context, step: RegistrationStep, registration: Registration | undefined, values: Record<string, unknown>, errors: FormErrors | null = null, status = 200, extra: Record<string, unknown> = {}) =>
    page(ctx, step.replace('_', '-'), status, {
      title: t(`registration.${step === 'identity' ? 'identity' : step}.title` as MessageKey),
      stepNumber: Math.min(stepIndex(step), 6) || 1,
      action: PATHS[step],
      values,
      errors,
      data: registration?.data ?? {},
      ...extra,
    }, registration?.returnUid);

  /** The attempt, allowed to show or post `step` (not beyond its progress); else an answer. */
  async function attemptFor(ctx: Context, step: RegistrationStep): Promise<Registration | undefined> {
    const registration = await deps.registration.find(cookie(ctx));
    if (!registration) {
      await expired(ctx);
      return undefined;
    }
    if (registration.step === 'done' || stepIndex(step) > stepIndex(registration.step)) {
      ctx.status = 303;
      ctx.redirect(registration.step === 'done' ? finishPath(registration) : PATHS[registration.step]);
      return undefined;
    }
    return registration;
  }

  const finishPath = (registration: Pick<Registration, 'returnUid'>) =>
    registration.returnUid && INTERACTION_UID.test(registration.returnUid) ? `/interaction/${registration.returnUid}/registrazione` : PATHS.done;

  const next = (ctx: Context, step: RegistrationStep) => {
    ctx.status = 303;
    ctx.redirect(PATHS[step]);
  };

  const throttled = (ctx: Context, retryAfterSeconds: number) => {
    ctx.set('Retry-After', String(retryAfterSeconds));
    return { summary: [t('registration.throttled', { minutes: Math.ceil(retryAfterSeconds / 60) })], fields: {} } satisfies FormErrors;
  };

  // Start, or resume where the attempt stopped.
  router.get('/registrazione', ...pages, async (ctx) => {
    const uid = typeof ctx.query.interazione === 'string' && INTERACTION_UID.test(ctx.query.interazione) ? ctx.query.interazione : null;
    const registration = await deps.registration.find(cookie(ctx));
    if (registration) {
      if (uid) await deps.registration.rememberReturn(registration, uid);
      ctx.status = 303;
      return ctx.redirect(registration.step === 'done' ? finishPath({ returnUid: uid ?? registration.returnUid }) : PATHS[registration.step]);
    }
    await form(ctx, 'identity', undefined, { interazione: uid ?? '', born_in: 'italy' }, null, 200, { returnUid: uid });
  });

  // 1. identity
  router.get(PATHS.identity, ...pages, async (ctx) => {
    const registration = await deps.registration.find(cookie(ctx));
    await form(ctx, 'identity', registration, identityValues(registration), null, 200);
  });

  router.post(PATHS.identity, ...pages, ...post, async (ctx) => {
    const body = (ctx.request.body ?? {}) as Record<string, unknown>;
    const values = { ...typedAll(body, ['given_name', 'family_name', 'sex', 'birth_date', 'born_in', 'comune', 'province', 'country', 'interazione']) };
    let registration = await deps.registration.find(cookie(ctx));
    const uid = typeof body.interazione === 'string' && INTERACTION_UID.test(body.interazione) ? body.interazione : registration?.returnUid ?? null;
    const parsed = identityForm.safeParse(body);
    const fields: FieldErrors = parsed.success ? {} : fieldErrors(parsed.error).fields;
    // the place is checked whatever else is wrong, so that every problem shows at once
    let place = null;
    // places as they were on the birth date (comuni merge and change names)
    const bornOn = parsed.success && parsed.data.birth_date ? new Date(`${parsed.data.birth_date}T12:00:00Z`) : new Date();
    if (values.born_in === 'italy') {
      if (!/^[a-z]{2}$/i.test(values.province!.trim())) fields.province = t('registration.error.province');
      if (!values.comune!.trim()) fields.comune = t('registration.error.comune');
      if (!fields.province && !fields.comune) {
        place = await resolveBirthPlace({ kind: 'italy', comune: values.comune!, province: values.province! }, bornOn);
        if (!place) fields.comune = t('registration.error.comune');
      }
    } else if (values.born_in === 'abroad') {
      place = values.country!.trim() ? await resolveBirthPlace({ kind: 'abroad', country: values.country! }, bornOn) : null;
      if (!place) fields.country = t('registration.error.country');
    }
    if (parsed.success && !baseUsername(parsed.data.given_name, parsed.data.family_name)) fields.given_name = t('registration.error.given_name');
    if (!parsed.success || !place || Object.values(fields).some(Boolean)) {
      return form(ctx, 'identity', registration, values, summarize(ordered(fields, IDENTITY_FIELDS)), 400, { returnUid: uid });
    }
    if (!registration) {
      const started = await deps.registration.start(from(ctx), uid);
      if (!started.ok) return form(ctx, 'identity', undefined, values, throttled(ctx, started.retryAfterSeconds), 429, { returnUid: uid });
      setCookie(ctx, started.token);
      registration = started.registration;
    } else if (registration.step === 'done') {
      ctx.status = 303;
      return ctx.redirect(finishPath(registration));
    }
    const d = parsed.data;
    await deps.registration.saveIdentity(registration, {
      givenName: d.given_name, familyName: d.family_name, sex: d.sex, birthDate: d.birth_date, birthPlace: place,
      place: { bornIn: d.born_in, comune: d.comune.trim(), province: d.province.trim().toUpperCase(), country: d.country.trim() },
    });
    next(ctx, 'fiscal_code');
  });

  // 2. codice fiscale
  router.get(PATHS.fiscal_code, ...pages, async (ctx) => {
    const registration = await attemptFor(ctx, 'fiscal_code');
    if (registration) await form(ctx, 'fiscal_code', registration, { codice_fiscale: registration.data.fiscalCode ?? '' });
  });

  router.post(PATHS.fiscal_code, ...pages, ...post, async (ctx) => {
    const registration = await attemptFor(ctx, 'fiscal_code');
    if (!registration) return;
    const body = (ctx.request.body ?? {}) as Record<string, unknown>;
    const values = typedAll(body, ['codice_fiscale']);
    const parsed = fiscalCodeForm.safeParse(body);
    if (!parsed.success) return form(ctx, 'fiscal_code', registration, values, fieldErrors(parsed.error), 400);
    const saved = await deps.registration.saveFiscalCode(registration, parsed.data.codice_fiscale);
    if (!saved.ok) {
      const messages = [...new Set(saved.problems.map((p) => t(CF_MESSAGES[p])))];
      return form(ctx, 'fiscal_code', registration, values, { summary: messages, fields: { codice_fiscale: messages.join(' ') } }, 422);
    }
    next(ctx, 'email');
  });

  // 3. e-mail (and mobile), then the code
  router.get(PATHS.email, ...pages, async (ctx) => {
    const registration = await attemptFor(ctx, 'email');
    if (registration) await form(ctx, 'email', registration, { email: registration.data.email ?? '', mobile: registration.data.mobile ?? '' });
  });

  router.post(PATHS.email, ...pages, ...post, async (ctx) => {
    const registration = await attemptFor(ctx, 'email');
    if (!registration) return;
    const body = (ctx.request.body ?? {}) as Record<string, unknown>;
    const values = typedAll(body, ['email', 'mobile']);
    const parsed = emailForm.safeParse(body);
    const errors = parsed.success ? null : fieldErrors(parsed.error);
    if (parsed.success && parsed.data.mobile === '!invalid') return form(ctx, 'email', registration, values, summarize({ mobile: t('registration.error.mobile') }), 400);
    if (!parsed.success) return form(ctx, 'email', registration, values, errors, 400);
    const sent = await deps.registration.saveEmail(registration, { email: parsed.data.email, mobile: parsed.data.mobile || undefined }, from(ctx));
    if (!sent.ok) return form(ctx, 'email', registration, values, throttled(ctx, sent.retryAfterSeconds), 429);
    next(ctx, 'code');
  });

  const codePage = (ctx: Context, registration: Registration, errors: FormErrors | null = null, status = 200, notice?: string) =>
    form(ctx, 'code', registration, { code: '' }, errors, status, { email: registration.data.email, minutes: deps.registration.codeMinutes, notice: notice ?? null });

  router.get(PATHS.code, ...pages, async (ctx) => {
    const registration = await attemptFor(ctx, 'code');
    if (registration) await codePage(ctx, registration);
  });

  router.post(PATHS.code, ...pages, ...post, async (ctx) => {
    const registration = await attemptFor(ctx, 'code');
    if (!registration) return;
    const body = (ctx.request.body ?? {}) as Record<string, unknown>;
    if (registration.step !== 'code') return next(ctx, registration.step);
    if (body.azione === 'nuovo-codice') {
      const sent = await deps.registration.resendCode(registration, from(ctx));
      if (sent.ok) return codePage(ctx, registration, null, 200, t('registration.code.sent'));
      if (sent.problem === 'too_soon') {
        ctx.set('Retry-After', String(sent.retryAfterSeconds));
        return codePage(ctx, registration, { summary: [t('registration.error.code_too_soon', { seconds: sent.retryAfterSeconds })], fields: {} }, 429);
      }
      return codePage(ctx, registration, throttled(ctx, sent.retryAfterSeconds), 429);
    }
    const parsed = codeForm.safeParse(body);
    if (!parsed.success) return codePage(ctx, registration, fieldErrors(parsed.error), 400);
    const check = await deps.registration.checkCode(registration, parsed.data.code, from(ctx));
    if (check.ok) return next(ctx, 'privacy');
    const message = check.problem === 'wrong'
      ? t('registration.error.code_wrong', { tries: check.triesLeft })
      : check.problem === 'expired' ? t('registration.error.code_expired', { minutes: deps.registration.codeMinutes }) : t('registration.error.code_exhausted');
    return codePage(ctx, registration, summarize({ code: message }), 422);
  });

  // 4. privacy
  router.get(PATHS.privacy, ...pages, async (ctx) => {
    const registration = await attemptFor(ctx, 'privacy');
    if (registration) await form(ctx, 'privacy', registration, { privacy: registration.data.privacyAcknowledgedAt ? 'si' : '' });
  });

  router.post(PATHS.privacy, ...pages, ...post, async (ctx) => {
    const registration = await attemptFor(ctx, 'privacy');
    if (!registration) return;
    const parsed = privacyForm.safeParse(ctx.request.body ?? {});
    if (!parsed.success) return form(ctx, 'privacy', registration, { privacy: '' }, fieldErrors(parsed.error), 400);
    await deps.registration.acknowledgePrivacy(registration);
    next(ctx, 'username');
  });

  // 5. the username
  router.get(PATHS.username, ...pages, async (ctx) => {
    const registration = await attemptFor(ctx, 'username');
    if (registration) await form(ctx, 'username', registration, {}, null, 200, { username: registration.data.username });
  });

  router.post(PATHS.username, ...pages, ...post, async (ctx) => {
    const registration = await attemptFor(ctx, 'username');
    if (!registration) return;
    await deps.registration.confirmUsername(registration);
    next(ctx, 'password');
  });

  // 6. the password, and the account
  const passwordPage = (ctx: Context, registration: Registration, errors: FormErrors | null = null, status = 200) =>
    form(ctx, 'password', registration, {}, errors, status, { username: registration.data.username, passwordRules: deps.passwordRules() });

  router.get(PATHS.password, ...pages, async (ctx) => {
    const registration = await attemptFor(ctx, 'password');
    if (registration) await passwordPage(ctx, registration);
  });

  router.post(PATHS.password, ...pages, ...post, async (ctx) => {
    const registration = await attemptFor(ctx, 'password');
    if (!registration) return;
    const body = (ctx.request.body ?? {}) as Record<string, unknown>;
    const password = typeof body.password === 'string' ? body.password.slice(0, 1024) : '';
    const confirm = typeof body.confirm === 'string' ? body.confirm.slice(0, 1024) : '';
    const fields: FieldErrors = {};
    if (!password) fields.password = t('registration.error.password_required');
    if (password && confirm !== password) fields.confirm = t('registration.error.confirm');
    if (fields.password || fields.confirm) return passwordPage(ctx, registration, summarize(fields), 400);
    const outcome = await deps.registration.complete(registration, password, from(ctx));
    if (!outcome.ok && outcome.problem === 'rules') {
      const messages = outcome.broken.map((rule) => brokenRuleMessage(t, rule));
      return passwordPage(ctx, registration, { summary: messages, fields: { password: messages.join(' ') } }, 422);
    }
    if (!outcome.ok) return expired(ctx);
    if (outcome.outcome === 'existing') {
      setCookie(ctx, null);
      return page(ctx, 'message', 200, {
        title: t('registration.not_created.title'), message: t('registration.not_created.message'), tone: 'warning',
        links: true,
      }, registration.returnUid);
    }
    ctx.status = 303;
    ctx.redirect(finishPath(registration));
  });

  // The end without a sign-in to return to (or when it expired meanwhile).
  router.get(PATHS.done, ...pages, async (ctx) => {
    const claimed = await deps.registration.claimCompleted(cookie(ctx));
    if (!claimed) return expired(ctx);
    setCookie(ctx, null);
    await done(ctx, claimed.username);
  });

  const done = (ctx: Context, username: string) => page(ctx, 'message', 200, {
    title: t('registration.done.title'), message: t('registration.done.message', { username }), tone: 'success',
    details: [t('registration.done.how')],
  });

  // Back to the service: the interaction's cookie is scoped to /interaction/<uid>, so it is sent here.
  router.get('/interaction/:uid/registrazione', ...pages, async (ctx) => {
    let interaction: Awaited<ReturnType<Provider['interactionDetails']>> | undefined;
    try {
      interaction = await deps.provider.interactionDetails(ctx.req, ctx.res);
      if (interaction.uid !== ctx.params.uid) interaction = undefined;
    } catch {
      interaction = undefined;
    }
    const claimed = await deps.registration.claimCompleted(cookie(ctx));
    if (!claimed) return expired(ctx);
    setCookie(ctx, null);
    if (!interaction || interaction.prompt.name !== 'login') return done(ctx, claimed.username);
    const target = await deps.provider.interactionResult(ctx.req, ctx.res, {
      login: { accountId: claimed.accountId, acr: ACR.password, amr: ['pwd'], remember: false },
    }, { mergeWithLastSubmission: false });
    ctx.status = 303;
    ctx.redirect(target);
  });

  return router;
}

function identityValues(registration: Registration | undefined): Record<string, string> {
  const d = registration?.data;
  if (!d) return { born_in: 'italy' };
  return {
    given_name: d.givenName ?? '', family_name: d.familyName ?? '', sex: d.sex ?? '', birth_date: d.birthDate ?? '',
    born_in: d.place?.bornIn ?? 'italy', comune: d.place?.comune ?? '', province: d.place?.province ?? '', country: d.place?.country ?? '',
  };
}

/** dd/mm/yyyy or yyyy-mm-dd (the date input) → yyyy-mm-dd, when the day exists. */
function isoDate(value: string): string | null {
  const m = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$/.exec(value) ?? null;
  const iso = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const [year, month, day] = iso ? [Number(iso[1]), Number(iso[2]), Number(iso[3])] : m ? [Number(m[3]), Number(m[2]), Number(m[1])] : [0, 0, 0];
  if (!year) return null;
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return null;
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** What was typed, to show the form again; never a password. */
function typedAll(body: Record<string, unknown>, names: string[]): Record<string, string> {
  return Object.fromEntries(names.map((n) => [n, typeof body[n] === 'string' ? (body[n] as string).slice(0, 254) : '']));
}

function fieldErrors(error: z.ZodError): FormErrors {
  const fields: FieldErrors = {};
  for (const issue of error.issues) {
    const name = String(issue.path[0] ?? '');
    if (!name || fields[name]) continue;
    const key = issue.message as MessageKey;
    fields[name] = issue.code === 'invalid_type' || !key.startsWith('registration.') ? t(REQUIRED[name] ?? 'form.field_required') : t(key);
  }
  return summarize(fields);
}

const IDENTITY_FIELDS = ['given_name', 'family_name', 'sex', 'birth_date', 'born_in', 'comune', 'province', 'country'];

/** The messages in the order of the form's fields. */
function ordered(fields: FieldErrors, order: string[]): FieldErrors {
  return Object.fromEntries(order.filter((name) => fields[name]).map((name) => [name, fields[name]]));
}

function summarize(fields: FieldErrors): FormErrors {
  return { summary: Object.values(fields).filter((m): m is string => !!m), fields };
}

export { REGISTRATION_STEPS };
