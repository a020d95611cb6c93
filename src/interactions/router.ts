import Router from '@koa/router';
import type { Context } from 'koa';
import type { CsrfGuard } from '../http/csrf.js';
import { formBody } from '../http/body.js';
import { noStore } from '../http/security-headers.js';
import { t } from '../i18n/index.js';
import { banner, finish, loadInteraction, render, type InteractionDeps } from './context.js';
import { buildGateFacts } from './facts.js';
import { gateNamed } from './gates/index.js';
import { showConsent, submitConsent } from './steps/consent.js';
import { showLogin, submitLogin } from './steps/login.js';

/**
 * The screens the provider sends the browser to. Everything lives under
 * /interaction/<uid> because the interaction cookie is scoped to that path.
 */
export function createInteractionRouter(deps: InteractionDeps, csrf: CsrfGuard) {
  const router = new Router({ prefix: '/interaction' });
  router.use(noStore, csrf.issue);
  const post = [formBody(), csrf.verify] as const;

  router.get('/:uid', async (ctx) => {
    const current = await loadInteraction(deps, ctx);
    const { prompt } = current.interaction;
    if (prompt.name === 'login') return showLogin(deps, ctx, current);
    if (prompt.name === 'consent') return showConsent(deps, ctx, current);
    return showGate(deps, ctx, current);
  });

  router.post('/:uid/login', ...post, async (ctx) => {
    const current = await loadInteraction(deps, ctx);
    if (current.interaction.prompt.name !== 'login') return backToStep(ctx);
    await submitLogin(deps, ctx, current);
  });

  router.post('/:uid/consent', ...post, async (ctx) => {
    const current = await loadInteraction(deps, ctx);
    if (current.interaction.prompt.name !== 'consent') return backToStep(ctx);
    await submitConsent(deps, ctx, current);
  });

  router.post('/:uid/abort', ...post, async (ctx) => {
    await loadInteraction(deps, ctx);
    await finish(deps, ctx, { error: 'access_denied', error_description: 'the user went back to the service' });
  });

  return router;
}

async function showGate(deps: InteractionDeps, ctx: Context, current: Awaited<ReturnType<typeof loadInteraction>>) {
  const { interaction, service } = current;
  const gate = gateNamed(interaction.prompt.name);
  const accountId = interaction.session?.accountId;
  const account = accountId ? await deps.accounts.findById(accountId) : undefined;
  if (!gate || !account) {
    return finish(deps, ctx, { error: 'login_required', error_description: 'the sign-in cannot continue' });
  }
  const facts = buildGateFacts({ account, service, session: interaction.session, acrValues: interaction.params.acr_values });
  const page = await gate.show({ facts, reasons: interaction.prompt.reasons, t });
  await render(deps, ctx, page.view, page.status, { ...page.locals, title: String(page.locals.title ?? ''), service: banner(service), uid: interaction.uid });
}

function backToStep(ctx: Context) {
  ctx.status = 303;
  ctx.redirect(`/interaction/${ctx.params.uid}`);
}
