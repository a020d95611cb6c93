import Router from '@koa/router';
import type { Context } from 'koa';
import type { CsrfGuard } from '../http/csrf.js';
import { formBody } from '../http/body.js';
import { noStore } from '../http/security-headers.js';
import { t } from '../i18n/index.js';
import { banner, finish, loadInteraction, render, type InteractionDeps } from './context.js';
import { buildGateFacts } from './facts.js';
import type { GateInput, GatePage, GateServices } from './gates/gate.js';
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

  router.post('/:uid/gate', ...post, async (ctx) => {
    const current = await loadInteraction(deps, ctx);
    const gate = gateNamed(current.interaction.prompt.name);
    if (!gate?.submit) return backToStep(ctx);
    const input = await gateInput(deps, current);
    if (!input) return finish(deps, ctx, { error: 'login_required', error_description: 'the sign-in cannot continue' });
    // the sign-in was admitted at its login: its password work goes ahead of new sign-ins
    const outcome = await deps.passwordWork.continuing(() => gate.submit!({
      ...input,
      form: (ctx.request.body ?? {}) as Record<string, unknown>,
      services: gateServices(deps),
      from: { ip: ctx.ip, userAgent: ctx.get('user-agent'), clientId: current.service.id },
    }));
    // cleared: the database no longer gives the gate's checks a reason, the policy walks on
    if (outcome === 'cleared') return finish(deps, ctx, { [gate.name]: { cleared: true } });
    // a new authentication step: the session records it (acr, amr, auth_time) and the checks see it
    if ('authenticated' in outcome) {
      const accountId = input.facts.account.id;
      return finish(deps, ctx, { [gate.name]: { cleared: true }, login: { accountId, ...outcome.authenticated, remember: false } });
    }
    await renderGate(deps, ctx, current, input, outcome);
  });

  // the modulo di adesione of the person's enablement request for this service (a PDF to print)
  router.get('/:uid/modulo-adesione', async (ctx) => {
    const current = await loadInteraction(deps, ctx);
    const accountId = current.interaction.session?.accountId;
    const account = accountId ? await deps.accounts.findById(accountId) : undefined;
    const form = account && current.service.enablementRequired
      ? await deps.enablement.applicationForm(account, { id: current.service.id, name: current.service.name })
      : undefined;
    if (!form) return backToStep(ctx);
    ctx.type = 'application/pdf';
    ctx.set('Content-Disposition', `attachment; filename="modulo-adesione-${form.number}.pdf"`);
    ctx.body = form.pdf;
  });

  router.post('/:uid/abort', ...post, async (ctx) => {
    await loadInteraction(deps, ctx);
    await finish(deps, ctx, { error: 'access_denied', error_description: 'the user went back to the service' });
  });

  return router;
}

type Current = Awaited<ReturnType<typeof loadInteraction>>;

async function gateInput(deps: InteractionDeps, { interaction, service }: Current): Promise<GateInput | undefined> {
  const accountId = interaction.session?.accountId;
  const account = accountId ? await deps.accounts.findById(accountId) : undefined;
  if (!account) return undefined;
  const [secondFactor, enablement] = await Promise.all([
    deps.secondFactor.status(account.id),
    service.enablementRequired ? deps.enablement.status(account.id, service.id) : undefined,
  ]);
  const facts = buildGateFacts({ account, service, session: interaction.session, acrValues: interaction.params.acr_values, secondFactor, enablement });
  return { facts, reasons: interaction.prompt.reasons, t, passwordRules: deps.passwords.rules(), services: gateServices(deps) };
}

function gateServices(deps: InteractionDeps): GateServices {
  return { passwords: deps.passwords, secondFactor: deps.secondFactor, enablement: deps.enablement };
}

async function showGate(deps: InteractionDeps, ctx: Context, current: Current) {
  const gate = gateNamed(current.interaction.prompt.name);
  const input = await gateInput(deps, current);
  if (!gate || !input) {
    return finish(deps, ctx, { error: 'login_required', error_description: 'the sign-in cannot continue' });
  }
  await renderGate(deps, ctx, current, input, await gate.show(input));
}

async function renderGate(deps: InteractionDeps, ctx: Context, { interaction, service }: Current, input: GateInput, page: GatePage) {
  await render(deps, ctx, page.view, page.status, {
    ...page.locals,
    title: String(page.locals.title ?? ''),
    service: banner(service),
    uid: interaction.uid,
    username: input.facts.account.username,
  });
}

function backToStep(ctx: Context) {
  ctx.status = 303;
  ctx.redirect(`/interaction/${ctx.params.uid}`);
}
