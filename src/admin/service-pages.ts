import type Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { singleFileUpload } from '../http/upload.js';
import { t } from '../i18n/index.js';
import { formatDateTime } from '../mail/templates.js';
import { SUPPORTED_ACR_VALUES } from '../accounts/acr.js';
import type { CatalogueActor, Refusal, ServiceAdministration } from '../services/administration.js';
import { ACCOUNT_TYPES, CLIENT_AUTH_METHODS, GRANT_TYPES, KNOWN_SCOPES, SERVICE_ID } from '../services/catalogue.js';
import { logoType, MAX_LOGO_BYTES } from '../services/logo.js';
import type { ServiceRecord } from '../services/repository.js';
import { formErrors, formValues, GRACE_CHOICES, settingsFromForm, type ServiceFormValues } from './service-form.js';

export interface ServicePagesKit {
  router: Router;
  requireAdmin: Middleware;
  /** a form's body and its CSRF token */
  post: readonly Middleware[];
  verifyCsrf: Middleware;
  render(ctx: Context, view: string, status: number, locals: Record<string, unknown> & { title: string }): Promise<void>;
  actor(ctx: Context): CatalogueActor;
  services: ServiceAdministration;
}

const PAGE = '/admin/servizi';
const pathOf = (id: string) => `${PAGE}/${encodeURIComponent(id)}`;

/** What every service form offers to choose from. */
const CHOICES = {
  accountTypes: ACCOUNT_TYPES,
  acrValues: SUPPORTED_ACR_VALUES,
  scopes: KNOWN_SCOPES.filter((s) => s !== 'openid'),
  grantTypes: GRANT_TYPES,
  authMethods: CLIENT_AUTH_METHODS,
};

/**
 * Servizi: the catalogue in the console — list, register, edit, upload a logo, rotate the
 * secret (shown once), disable or enable, remove; the destructive ones behind a confirmation page.
 */
export function servicePages(kit: ServicePagesKit): void {
  const { router, requireAdmin, post, verifyCsrf, render, actor, services } = kit;

  const listPage = async (ctx: Context, status: number, notice: string | null = null) =>
    render(ctx, 'services', status, {
      title: t('admin.services.title'),
      notice,
      services: (await services.repository.list()).map((s) => ({
        id: s.id,
        name: s.name,
        href: pathOf(s.id),
        origin: t(`admin.services.origin.${s.origin}`),
        state: t(s.disabledAt ? 'admin.services.disabled' : 'admin.services.active'),
        disabled: s.disabledAt !== null,
      })),
    });

  const formPage = (ctx: Context, status: number, locals: { service?: ServiceRecord; values: ServiceFormValues; errors?: ReturnType<typeof formErrors> | null; notice?: string | null }) =>
    render(ctx, 'service', status, {
      title: locals.service ? locals.service.name : t('admin.services.new'),
      service: locals.service ? describe(locals.service) : null,
      action: locals.service ? pathOf(locals.service.id) : PAGE,
      values: locals.values,
      choices: CHOICES,
      errors: locals.errors ?? null,
      notice: locals.notice ?? null,
    });

  const secretPage = (ctx: Context, status: number, service: ServiceRecord, secret: string) =>
    render(ctx, 'service-secret', status, {
      title: t('admin.services.secret_title', { id: service.id }),
      secret,
      previous: service.previousSecret ? t('admin.services.secret_previous', { until: formatDateTime(service.previousSecret.validUntil) }) : null,
      back: pathOf(service.id),
    });

  const notFound = (ctx: Context, id: string) =>
    render(ctx, 'message', 404, { title: t('admin.services.title'), message: t('admin.services.not_found', { id: id.slice(0, 63) }) });

  /** The service named in the path, or the 404 page. */
  const load = async (ctx: Context): Promise<ServiceRecord | undefined> => {
    const id = String(ctx.params.id ?? '');
    const service = SERVICE_ID.test(id) ? await services.repository.find(id) : undefined;
    if (!service) await notFound(ctx, id);
    return service;
  };

  const refused = (ctx: Context, id: string, refusal: Refusal) => {
    if (refusal.reason === 'not_found') return notFound(ctx, id);
    if (refusal.reason === 'public_client') return render(ctx, 'message', 409, { title: t('admin.services.title'), message: t('admin.services.public_client') });
    return undefined;
  };

  router.get('/servizi', requireAdmin, (ctx) => listPage(ctx, 200));
  router.get('/servizi/nuovo', requireAdmin, (ctx) => formPage(ctx, 200, { values: formValues('') }));

  router.post('/servizi', requireAdmin, ...post, async (ctx) => {
    const body = ctx.request.body as Record<string, unknown>;
    const id = String(body.id ?? '').trim().slice(0, 80);
    const input = settingsFromForm(body);
    const outcome = await services.register({ id, settings: input }, actor(ctx), 'console');
    if (!outcome.ok) {
      if (outcome.reason !== 'invalid') return refused(ctx, id, outcome);
      return formPage(ctx, outcome.problems.some((p) => p.message === 'is already registered') ? 409 : 400, { values: formValues(id, input), errors: formErrors(outcome.problems) });
    }
    if (outcome.secret) return secretPage(ctx, 201, outcome.service, outcome.secret);
    ctx.status = 303;
    ctx.redirect(pathOf(id));
  });

  router.get('/servizi/:id', requireAdmin, async (ctx) => {
    const service = await load(ctx);
    if (service) return formPage(ctx, 200, { service, values: formValues(service.id, service.settings) });
  });

  router.post('/servizi/:id', requireAdmin, ...post, async (ctx) => {
    const service = await load(ctx);
    if (!service) return;
    const input = settingsFromForm(ctx.request.body as Record<string, unknown>);
    const outcome = await services.update(service.id, input, actor(ctx));
    if (!outcome.ok) {
      if (outcome.reason !== 'invalid') return refused(ctx, service.id, outcome);
      return formPage(ctx, 400, { service, values: formValues(service.id, input), errors: formErrors(outcome.problems) });
    }
    if (outcome.secret) return secretPage(ctx, 200, outcome.service, outcome.secret);
    return formPage(ctx, 200, { service: outcome.service, values: formValues(service.id, outcome.service.settings), notice: t('admin.services.updated', { id: service.id }) });
  });

  router.post('/servizi/:id/logo', requireAdmin, singleFileUpload('logo', MAX_LOGO_BYTES), verifyCsrf, async (ctx) => {
    const service = await load(ctx);
    if (!service) return;
    const file = ctx.state.upload as { buffer: Buffer } | undefined;
    const contentType = file && logoType(file.buffer);
    if (!file || !contentType) {
      const error = t('admin.services.logo_refused');
      return formPage(ctx, 400, { service, values: formValues(service.id, service.settings), errors: { summary: [error], fields: { logoFile: error } } });
    }
    const outcome = await services.setLogo(service.id, { contentType, bytes: file.buffer }, actor(ctx));
    if (!outcome.ok) return refused(ctx, service.id, outcome);
    return formPage(ctx, 200, { service: outcome.service, values: formValues(service.id, outcome.service.settings), notice: t('admin.services.logo_uploaded', { id: service.id }) });
  });

  // the secret: a confirmation page with the grace period, then the new secret once
  router.get('/servizi/:id/segreto', requireAdmin, async (ctx) => {
    const service = await load(ctx);
    if (!service) return;
    if (!service.secretDigest) return refused(ctx, service.id, { ok: false, reason: 'public_client' });
    return render(ctx, 'confirm', 200, {
      title: t('admin.services.rotate_title', { id: service.id }),
      question: t('admin.services.rotate_question'),
      action: `${pathOf(service.id)}/segreto`,
      fields: {},
      choice: { name: 'grace', label: t('admin.services.grace'), options: GRACE_CHOICES.map((g) => ({ value: String(g), label: t(`admin.services.grace.${g}`), selected: g === 86400 })) },
      confirm: t('admin.services.rotate'),
      back: pathOf(service.id),
    });
  });

  router.post('/servizi/:id/segreto', requireAdmin, ...post, async (ctx) => {
    const service = await load(ctx);
    if (!service) return;
    const grace = Number((ctx.request.body as Record<string, unknown>).grace);
    if (!(GRACE_CHOICES as readonly number[]).includes(grace)) return render(ctx, 'message', 400, { title: t('admin.services.title'), message: t('admin.services.invalid.grace') });
    const outcome = await services.rotateSecret(service.id, grace, actor(ctx));
    if (!outcome.ok) return refused(ctx, service.id, outcome);
    return secretPage(ctx, 200, outcome.service, outcome.secret!);
  });

  const confirmPage = (action: 'disable' | 'remove', path: string) =>
    router.get(`/servizi/:id/${path}`, requireAdmin, async (ctx) => {
      const service = await load(ctx);
      if (!service) return;
      return render(ctx, 'confirm', 200, {
        title: t(`admin.services.${action}_title`, { id: service.id }),
        question: t(`admin.services.${action}_question`),
        action: `${pathOf(service.id)}/${path}`,
        fields: {},
        confirm: t(`admin.services.${action}`),
        back: pathOf(service.id),
      });
    });
  confirmPage('disable', 'disabilita');
  confirmPage('remove', 'elimina');

  const setEnabled = (enabled: boolean) => async (ctx: Context) => {
    const service = await load(ctx);
    if (!service) return;
    const outcome = await services.setEnabled(service.id, enabled, actor(ctx));
    if (!outcome.ok) return refused(ctx, service.id, outcome);
    return listPage(ctx, 200, t(enabled ? 'admin.services.enabled_notice' : 'admin.services.disabled_notice', { id: service.id }));
  };
  router.post('/servizi/:id/disabilita', requireAdmin, ...post, setEnabled(false));
  router.post('/servizi/:id/riabilita', requireAdmin, ...post, setEnabled(true));

  router.post('/servizi/:id/elimina', requireAdmin, ...post, async (ctx) => {
    const service = await load(ctx);
    if (!service) return;
    const outcome = await services.remove(service.id, actor(ctx));
    if (!outcome.ok) return refused(ctx, service.id, outcome);
    return listPage(ctx, 200, t('admin.services.removed', { id: service.id }));
  });
}

function describe(service: ServiceRecord) {
  return {
    id: service.id,
    href: pathOf(service.id),
    origin: t(`admin.services.origin.${service.origin}`),
    disabled: service.disabledAt !== null,
    state: t(service.disabledAt ? 'admin.services.disabled' : 'admin.services.active'),
    secret: service.secretDigest ? t('admin.services.secret_present') : t('admin.services.secret_absent'),
    confidential: service.secretDigest !== null,
    previous: service.previousSecret && service.previousSecret.validUntil > new Date() ? t('admin.services.secret_previous', { until: formatDateTime(service.previousSecret.validUntil) }) : null,
  };
}
