import { minutesOf } from '../../http/admission.js';
import type { Context } from 'koa';
import { z } from 'zod';
import { checkLoginUsername } from '../../accounts/username.js';
import { t } from '../../i18n/index.js';
import { ACR } from '../../accounts/acr.js';
import { banner, finish, render, type InteractionContext, type InteractionDeps } from '../context.js';

const loginForm = z.object({
  username: z.string().max(256).default(''),
  password: z.string().max(1024).default(''),
});

interface LoginFormState {
  username: string;
  errors?: { summary: string[]; fields: { username?: string; password?: string } };
}

export async function showLogin(deps: InteractionDeps, ctx: Context, { interaction, service }: InteractionContext, state: LoginFormState = { username: '' }, status = 200) {
  const hint = typeof interaction.params.login_hint === 'string' ? interaction.params.login_hint.slice(0, 64) : '';
  await render(deps, ctx, 'login', status, {
    title: t('login.title_for_service', { service: service.name }),
    service: banner(service),
    uid: interaction.uid,
    values: { username: state.username || hint },
    errors: state.errors ?? null,
  });
}

/** The password login method: on success the SSO session gets the account, `acr` and `amr`. */
export async function submitLogin(deps: InteractionDeps, ctx: Context, current: InteractionContext) {
  const parsed = loginForm.safeParse(ctx.request.body ?? {});
  const username = parsed.success ? parsed.data.username.trim() : '';
  const password = parsed.success ? parsed.data.password : '';
  if (!username || !password) {
    const required = t('form.field_required');
    return showLogin(deps, ctx, current, {
      username,
      errors: {
        summary: [t('login.missing_fields')],
        fields: { username: username ? undefined : required, password: password ? undefined : required },
      },
    }, 400);
  }

  const invalid = () => showLogin(deps, ctx, current, {
    username,
    errors: { summary: [t('login.invalid_credentials')], fields: {} },
  }, 401);

  // Garbage that could never be a username costs no argon2 time, yet answers the same way.
  if (!checkLoginUsername(username).ok) return invalid();

  // a new sign-in is admitted before any argon2 work is spent on it (issue 13)
  const admission = deps.passwordWork.admit();
  if (!admission.admitted) {
    deps.metrics.signIn('shed');
    ctx.state.unavailable = 'overload';
    ctx.set('Retry-After', String(admission.retryAfterSeconds));
    return showLogin(deps, ctx, current, {
      username,
      errors: { summary: [t('overload.message', { minutes: minutesOf(admission.retryAfterSeconds) })], fields: {} },
    }, 503);
  }

  const outcome = await deps.authenticator.authenticate({
    username,
    password,
    ip: ctx.ip,
    userAgent: ctx.get('user-agent'),
    clientId: current.service.id,
    device: deps.deviceCookie.idFor(ctx, username),
  });
  if (outcome.ok) deps.deviceCookie.remember(ctx, username);
  deps.metrics.signIn(outcome.ok ? 'success' : outcome.reason === 'throttled' ? 'throttled' : 'failure');
  if (!outcome.ok && outcome.reason === 'throttled') {
    ctx.set('Retry-After', String(outcome.retryAfterSeconds));
    return showLogin(deps, ctx, current, {
      username,
      errors: { summary: [outcome.unlockRequired ? t('login.locked_unlock') : t('login.throttled', { minutes: Math.ceil(outcome.retryAfterSeconds / 60) })], fields: {} },
    }, 429);
  }
  if (!outcome.ok && (outcome.reason === 'temporary_expired' || outcome.reason === 'temporary_used')) {
    return showLogin(deps, ctx, current, {
      username,
      errors: { summary: [t(`login.${outcome.reason}`)], fields: {} },
    }, 403);
  }
  if (!outcome.ok) return invalid();

  await finish(deps, ctx, {
    login: { accountId: outcome.account.id, acr: ACR.password, amr: ['pwd'], remember: false },
  });
}
