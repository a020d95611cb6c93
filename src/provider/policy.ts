import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import type { Gate, GateCheck } from '../interactions/gates/gate.js';
import { buildGateFacts, type GateFacts } from '../interactions/facts.js';
import { serviceFromClient } from '../services/catalogue.js';
import type { ProviderAccount } from './account.js';

const { Prompt, Check, base } = interactionPolicy;

/**
 * login (with our session checks added) → our gates, in order → consent. The only place
 * that builds Prompts and Checks.
 */
export function buildInteractionPolicy(gates: readonly Gate[], sessionChecks: readonly GateCheck[] = []): interactionPolicy.DefaultPolicy {
  const policy = base();
  const login = policy.get('login')!;
  sessionChecks.forEach((check) => login.checks.add(toCheck(check)));
  const consentIndex = policy.findIndex((prompt) => prompt.name === 'consent');
  gates.forEach((gate, offset) => {
    policy.add(new Prompt({ name: gate.name, requestable: false }, ...gate.checks.map(toCheck)), consentIndex + offset);
  });
  return policy;
}

function toCheck(check: GateCheck): interactionPolicy.Check {
  return new Check(check.reason, check.description, check.error, (ctx) => {
    const facts = gateFactsFor(ctx);
    return facts ? check.applies(facts) : Check.NO_NEED_TO_PROMPT;
  });
}

const factsByRequest = new WeakMap<KoaContextWithOIDC, GateFacts | null>();

/** The facts for the authorization request being processed, or null before sign-in. */
function gateFactsFor(ctx: KoaContextWithOIDC): GateFacts | null {
  if (factsByRequest.has(ctx)) return factsByRequest.get(ctx)!;
  const providerAccount = ctx.oidc.account as ProviderAccount | undefined;
  const client = ctx.oidc.client;
  const facts =
    providerAccount?.account && client
      ? buildGateFacts({
          account: providerAccount.account,
          service: serviceFromClient(client),
          session: { acr: ctx.oidc.session?.acr, amr: ctx.oidc.session?.amr, loginTs: ctx.oidc.session?.loginTs },
          acrValues: ctx.oidc.params?.acr_values,
          secondFactor: providerAccount.secondFactor,
          enablement: providerAccount.enablement,
        })
      : null;
  factsByRequest.set(ctx, facts);
  return facts;
}
