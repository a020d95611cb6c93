import type { Context } from 'koa';
import { t } from '../../i18n/index.js';
import { changeForm, missingFields, refusalErrors, type FormErrors } from '../../interactions/gates/password-change.js';
import { formatDateTime } from '../../mail/templates.js';
import { SECURITY_PAGE, type AreaKit } from '../router.js';

/** The password, and the second factor (on, new recovery codes, off). */
export function securityPages(kit: AreaKit): void {
  const { router, deps, now, post, from, person, render, requireSignedIn, requireFresh, toSignIn } = kit;

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
}
