import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import type Provider from 'oidc-provider';
import { z } from 'zod';
import { validateCodiceFiscale } from '../accounts/codice-fiscale.js';
import type { PasswordRule } from '../accounts/password-policy.js';
import { isMiUsername } from '../accounts/username.js';
import type { CsrfGuard } from '../http/csrf.js';
import { formBody } from '../http/body.js';
import { noStore } from '../http/security-headers.js';
import type { RenderPage } from '../http/views.js';
import { t, type MessageKey } from '../i18n/index.js';
import { brokenRuleMessage } from '../interactions/gates/password-change.js';
import { serviceFromClient } from '../services/catalogue.js';
import type { LinkProblem, RecoveryService } from './service.js';

export interface RecoveryRouterDeps {
  recovery: RecoveryService;
  provider: Provider;
  renderPage: RenderPage;
  passwordRules: () => PasswordRule[];
  /** cookies Secure (https issuer) */
  secure: boolean;
}

// Each field's zod schema carries the catalogue key of its message, which names the field.
const usernameField = z.string().trim()
  .min(1, 'recovery.field.username_required')
  .max(64, 'recovery.field.username_invalid')
  .regex(/^[a-z0-9._-]+$/i, 'recovery.field.username_invalid');
const fiscalCodeField = z.string().transform((v) => v.replace(/\s+/g, '').toUpperCase()).pipe(
  z.string()
    .min(1, 'recovery.field.fiscal_code_required')
    .refine((cf) => validateCodiceFiscale(cf).valid, 'recovery.field.fiscal_code_invalid'),
);
const emailField = z.string().trim()
  .min(1, 'recovery.field.email_required')
  .pipe(z.email('recovery.field.email_invalid').max(254, 'recovery.field.email_invalid'));
const text = (max: number) => z.string().max(max).catch('');

const passwordRequestForm = z.object({ username: usernameField, codice_fiscale: fiscalCodeField });
const usernameRequestForm = z.object({ codice_fiscale: fiscalCodeField, email: emailField });
const resetForm = z.object({ token: text(128), next: text(1024), confirm: text(1024) });

type FieldErrors = Record<string, string | undefined>;
interface FormErrors {
  summary: string[];
  fields: FieldErrors;
}

/** The interaction this browser came from (the login page's links carry it), to lead back to it. */
export const RETURN_COOKIE = 'iam_recovery_return';
const INTERACTION_UID = /^[\w-]{10,64}$/;

/**
 * Password dimenticata? and Username dimenticato? (DOMAIN.md §6): public pages, outside
 * any interaction, with their own CSRF scope per form and the same answer for every
 * request that passes validation and the throttle.
 */
export function createRecoveryRouter(deps: RecoveryRouterDeps, csrf: CsrfGuard) {
  const router = new Router({ prefix: '/recupero' });
  router.use(noStore, csrf.issue, rememberInteraction(deps.secure));
  const post = [formBody(), csrf.verify] as const;
  const from = (ctx: Context) => ({ ip: ctx.ip, userAgent: ctx.get('user-agent'), requestId: ctx.state.requestId as string | undefined });

  async function render(ctx: Context, view: string, status: number, locals: Record<string, unknown> & { title: string }) {
    const back = await wayBack(deps.provider, ctx);
    ctx.status = status;
    ctx.type = 'html';
    ctx.body = await deps.renderPage(`recovery/${view}`, {
      csrfToken: ctx.state.csrfToken as string,
      errors: null,
      service: back.service,
      back: { href: back.href, label: back.label },
      ...locals,
    });
  }

  const message = (ctx: Context, status: number, page: { title: string; message: string; tone: 'info' | 'success' | 'warning' | 'danger'; details?: string[]; next?: { href: string; label: string } }) =>
    render(ctx, 'message', status, { details: [], ...page });

  // Password dimenticata?

  const passwordForm = (ctx: Context, values: { username: string; fiscalCode: string }, errors: FormErrors | null = null, status = 200) =>
    render(ctx, 'password-request', status, { title: t('recovery.password.title'), values, errors });

  router.get('/password', (ctx) => passwordForm(ctx, { username: '', fiscalCode: '' }));

  router.post('/password', ...post, async (ctx) => {
    const body = (ctx.request.body ?? {}) as Record<string, unknown>;
    const values = { username: typed(body.username, 64), fiscalCode: typed(body.codice_fiscale, 32) };
    const parsed = passwordRequestForm.safeParse(body);
    // the MI answer needs only the username's shape, which is public knowledge
    const username = usernameField.safeParse(body.username ?? '');
    if (username.success && isMiUsername(username.data)) {
      await deps.recovery.requestPasswordReset({ username: username.data, fiscalCode: '' }, from(ctx));
      return message(ctx, 200, { title: t('recovery.mi.title'), message: t('recovery.mi.message'), tone: 'warning', details: [t('recovery.mi.how')] });
    }
    if (!parsed.success) return passwordForm(ctx, values, fieldErrors(parsed.error), 400);
    const outcome = await deps.recovery.requestPasswordReset({ username: parsed.data.username, fiscalCode: parsed.data.codice_fiscale }, from(ctx));
    if (outcome.outcome === 'throttled') return throttled(ctx, outcome.retryAfterSeconds, (errors) => passwordForm(ctx, values, errors, 429));
    if (outcome.outcome === 'mi_account') {
      return message(ctx, 200, { title: t('recovery.mi.title'), message: t('recovery.mi.message'), tone: 'warning', details: [t('recovery.mi.how')] });
    }
    await message(ctx, 200, {
      title: t('recovery.password.sent_title'),
      message: t('recovery.password.sent', { minutes: deps.recovery.linkMinutes }),
      tone: 'info',
      details: [t('recovery.password.sent_hint')],
    });
  });

  // The link from the message: the token travels in the query (never logged: the request log
  // keeps the path only; Referrer-Policy is no-referrer) and then in the form's body.

  const resetPage = (ctx: Context, token: string, username: string, errors: FormErrors | null = null, status = 200) =>
    render(ctx, 'reset', status, { title: t('recovery.reset.title'), token, username, errors, passwordRules: deps.passwordRules() });

  const linkProblem = (ctx: Context, problem: LinkProblem) =>
    message(ctx, LINK_PROBLEM_STATUS[problem], {
      title: t(`recovery.link.${problem}_title` as MessageKey),
      message: t(`recovery.link.${problem}` as MessageKey, { minutes: deps.recovery.linkMinutes }),
      tone: 'danger',
      ...(problem === 'unavailable' ? {} : { next: { href: '/recupero/password', label: t('recovery.link.ask_again') } }),
    });

  router.get('/password/nuova', async (ctx) => {
    const token = typeof ctx.query.token === 'string' ? ctx.query.token : '';
    const check = await deps.recovery.inspectLink(token);
    if (!check.ok) return linkProblem(ctx, check.problem);
    await resetPage(ctx, token, check.username);
  });

  router.post('/password/nuova', ...post, async (ctx) => {
    const { token, next, confirm } = resetForm.parse(ctx.request.body ?? {});
    const check = await deps.recovery.inspectLink(token);
    if (!check.ok) return linkProblem(ctx, check.problem);
    const fields: FieldErrors = {};
    if (!next) fields.next = t('form.field_required');
    if (!confirm) fields.confirm = t('form.field_required');
    else if (next && confirm !== next) fields.confirm = t('gate.password_change.mismatch');
    if (fields.next || fields.confirm) return resetPage(ctx, token, check.username, summarize(fields), 400);

    const outcome = await deps.recovery.completeReset(token, next, from(ctx));
    if (!outcome.ok && outcome.problem === 'rules') {
      const messages = outcome.broken.map((rule) => brokenRuleMessage(t, rule));
      return resetPage(ctx, token, check.username, { summary: messages, fields: { next: messages.join(' ') } }, 422);
    }
    if (!outcome.ok) return linkProblem(ctx, outcome.problem);
    const back = await wayBack(deps.provider, ctx);
    await message(ctx, 200, {
      title: t('recovery.done.title'),
      message: t('recovery.done.message'),
      tone: 'success',
      ...(back.service
        ? { next: { href: back.href, label: t('recovery.sign_in_at', { service: back.service.name }) } }
        : { details: [t('recovery.done.how')] }),
    });
  });

  // Username dimenticato?

  const usernameForm = (ctx: Context, values: { fiscalCode: string; email: string }, errors: FormErrors | null = null, status = 200) =>
    render(ctx, 'username-request', status, { title: t('recovery.username.title'), values, errors });

  router.get('/username', (ctx) => usernameForm(ctx, { fiscalCode: '', email: '' }));

  router.post('/username', ...post, async (ctx) => {
    const body = (ctx.request.body ?? {}) as Record<string, unknown>;
    const values = { fiscalCode: typed(body.codice_fiscale, 32), email: typed(body.email, 254) };
    const parsed = usernameRequestForm.safeParse(body);
    if (!parsed.success) return usernameForm(ctx, values, fieldErrors(parsed.error), 400);
    const outcome = await deps.recovery.requestUsername({ fiscalCode: parsed.data.codice_fiscale, email: parsed.data.email }, from(ctx));
    if (outcome.outcome === 'throttled') return throttled(ctx, outcome.retryAfterSeconds, (errors) => usernameForm(ctx, values, errors, 429));
    await message(ctx, 200, {
      title: t('recovery.username.sent_title'),
      message: t('recovery.username.sent'),
      tone: 'info',
      details: [t('recovery.username.sent_hint')],
    });
  });

  return router;
}

const LINK_PROBLEM_STATUS: Record<LinkProblem, number> = { invalid: 404, expired: 410, used: 410, retired: 410, unavailable: 403 };

function throttled(ctx: Context, retryAfterSeconds: number, show: (errors: FormErrors) => Promise<void>) {
  ctx.set('Retry-After', String(retryAfterSeconds));
  return show({ summary: [t('recovery.throttled', { minutes: Math.ceil(retryAfterSeconds / 60) })], fields: {} });
}

/** What was typed, to show the form again; never a password (those fields are not echoed). */
function typed(value: unknown, max: number): string {
  return typeof value === 'string' ? value.slice(0, max) : '';
}

function fieldErrors(error: z.ZodError): FormErrors {
  const fields: FieldErrors = {};
  for (const issue of error.issues) {
    const name = String(issue.path[0] ?? '');
    // the first problem of each field; a missing field is an empty one
    if (!name || fields[name]) continue;
    fields[name] = issue.code === 'invalid_type' ? t(REQUIRED[name] ?? 'form.field_required') : t(issue.message as MessageKey);
  }
  return summarize(fields);
}

/** The service's authorization request, as the provider stored it with the interaction. */
function authorizationQuery(params: Record<string, unknown>): string {
  return new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => typeof e[1] === 'string')).toString();
}

const REQUIRED: Record<string, MessageKey> = {
  username: 'recovery.field.username_required',
  codice_fiscale: 'recovery.field.fiscal_code_required',
  email: 'recovery.field.email_required',
};

function summarize(fields: FieldErrors): FormErrors {
  return { summary: Object.values(fields).filter((m): m is string => !!m), fields };
}

function rememberInteraction(secure: boolean): Middleware {
  return async (ctx, next) => {
    const uid = ctx.query.interazione;
    if (ctx.method === 'GET' && typeof uid === 'string' && INTERACTION_UID.test(uid)) {
      // long enough to read the message and come back; the interaction itself lasts 30 minutes
      ctx.cookies.set(RETURN_COOKIE, uid, { httpOnly: true, sameSite: 'lax', secure, path: '/recupero', maxAge: 60 * 60 * 1000, overwrite: true });
      ctx.state.recoveryReturn = uid;
    }
    await next();
  };
}

/**
 * Back to the sign-in this browser started, while its interaction lives: the login page
 * shows again, for the same service. When the sign-in had got past the password and was
 * stopped by a gate (a dormant account), the new password ended its session, so the
 * service's own authorization request starts again instead. Otherwise the home page.
 */
async function wayBack(provider: Provider, ctx: Context): Promise<{ href: string; label: string; service: { name: string; logo?: string } | null }> {
  const uid = (ctx.state.recoveryReturn as string | undefined) ?? ctx.cookies.get(RETURN_COOKIE);
  if (uid && INTERACTION_UID.test(uid)) {
    const interaction = await provider.Interaction.find(uid);
    const clientId = interaction?.params.client_id;
    const client = typeof clientId === 'string' ? await provider.Client.find(clientId) : undefined;
    if (client) {
      const service = serviceFromClient(client);
      const href = interaction!.prompt.name === 'login' ? `/interaction/${uid}` : `/auth?${authorizationQuery(interaction!.params)}`;
      return { href, label: t('recovery.back_to_login', { service: service.name }), service: { name: service.name, logo: service.logo } };
    }
  }
  return { href: '/', label: t('recovery.back_home'), service: null };
}
