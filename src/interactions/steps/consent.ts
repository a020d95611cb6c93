import type { Context } from 'koa';
import { t, type MessageKey } from '../../i18n/index.js';
import { CLAIMS_BY_SCOPE, FISCAL_NUMBER_CLAIM, scopeOfClaim } from '../../accounts/claims.js';
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
  await render(deps, ctx, 'consent', 200, {
    title: t('consent.title', { service: service.name }),
    service: banner(service),
    uid: interaction.uid,
    groups: claimsToRelease(details),
    offline: (details.missingOIDCScope ?? []).includes('offline_access'),
  });
}

/**
 * Every claim the service will receive once the person agrees, by scope, in words: the
 * claims of each scope asked for, and those asked for one by one (the claims parameter,
 * already trimmed to what the service is registered for).
 */
function claimsToRelease(details: ConsentDetails): Array<{ label: string; claims: string[] }> {
  const groups = new Map<string, Set<string>>();
  const add = (scope: string, claim: string) => {
    if (!CLAIM_LABELS[claim]) return; // sub, acr…: about the sign-in, not the person
    groups.set(scope, (groups.get(scope) ?? new Set()).add(claim));
  };
  for (const scope of details.missingOIDCScope ?? []) {
    const claims: readonly string[] = CLAIMS_BY_SCOPE[scope as keyof typeof CLAIMS_BY_SCOPE] ?? [];
    claims.forEach((claim) => add(scope, claim));
  }
  for (const claim of details.missingOIDCClaims ?? []) {
    const scope = scopeOfClaim(claim);
    if (scope) add(scope, claim);
  }
  return [...groups].map(([scope, claims]) => ({
    label: t(`scope.${scope}` as MessageKey),
    claims: [...claims].map((claim) => t(CLAIM_LABELS[claim]!)),
  }));
}

const CLAIM_LABELS: Record<string, MessageKey> = {
  given_name: 'claim.given_name',
  family_name: 'claim.family_name',
  name: 'claim.name',
  preferred_username: 'claim.preferred_username',
  birthdate: 'claim.birthdate',
  gender: 'claim.gender',
  account_type: 'claim.account_type',
  email: 'claim.email',
  email_verified: 'claim.email_verified',
  phone_number: 'claim.phone_number',
  phone_number_verified: 'claim.phone_number_verified',
  address: 'claim.address',
  [FISCAL_NUMBER_CLAIM]: 'claim.fiscal_number',
};

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
