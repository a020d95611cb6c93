import type { Context } from 'koa';
import { t, type MessageKey } from '../../i18n/index.js';
import { banner, finish, render, type InteractionContext, type InteractionDeps } from '../context.js';

interface ConsentDetails {
  missingOIDCScope?: string[];
  missingOIDCClaims?: string[];
  missingResourceScopes?: Record<string, string[]>;
}

export async function showConsent(deps: InteractionDeps, ctx: Context, { interaction, service }: InteractionContext) {
  // A first-party service reaches consent only when it asked for prompt=consent: nothing to ask the user.
  if (service.firstParty) return grantRequested(deps, ctx, { interaction, service });
  const details = interaction.prompt.details as ConsentDetails;
  const scopes = (details.missingOIDCScope ?? []).filter((s) => s !== 'openid');
  await render(deps, ctx, 'consent', 200, {
    title: t('consent.title', { service: service.name }),
    service: banner(service),
    uid: interaction.uid,
    scopes: scopes.map((scope) => ({ scope, label: t(`scope.${scope}` as MessageKey) })),
    offline: scopes.includes('offline_access'),
  });
}

export async function submitConsent(deps: InteractionDeps, ctx: Context, current: InteractionContext) {
  const decision = (ctx.request.body as Record<string, unknown> | undefined)?.decision;
  if (decision !== 'accept') {
    return finish(deps, ctx, { error: 'access_denied', error_description: 'the user did not consent' });
  }
  return grantRequested(deps, ctx, current);
}

async function grantRequested(deps: InteractionDeps, ctx: Context, { interaction }: InteractionContext) {
  const { accountId } = interaction.session ?? {};
  if (!accountId) return finish(deps, ctx, { error: 'login_required', error_description: 'no signed-in account' });
  const clientId = String(interaction.params.client_id);
  const grant = interaction.grantId
    ? (await deps.provider.Grant.find(interaction.grantId)) ?? new deps.provider.Grant({ accountId, clientId })
    : new deps.provider.Grant({ accountId, clientId });
  const details = interaction.prompt.details as ConsentDetails;
  if (details.missingOIDCScope?.length) grant.addOIDCScope(details.missingOIDCScope.join(' '));
  if (details.missingOIDCClaims?.length) grant.addOIDCClaims(details.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(details.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  const grantId = await grant.save();
  await finish(deps, ctx, { consent: { grantId } });
}
