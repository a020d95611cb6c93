import { interactionPolicy } from 'oidc-provider';
import type { Gate, GateCheck } from '../interactions/gates/gate.js';
import { gateFactsFor } from '../interactions/facts.js';

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
