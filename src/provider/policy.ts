import { interactionPolicy } from 'oidc-provider';
import type { Gate } from '../interactions/gates/gate.js';
import { gateFactsFor } from '../interactions/facts.js';

const { Prompt, Check, base } = interactionPolicy;

/** login → our gates, in order → consent. The only place that builds Prompts and Checks. */
export function buildInteractionPolicy(gates: readonly Gate[]): interactionPolicy.DefaultPolicy {
  const policy = base();
  const consentIndex = policy.findIndex((prompt) => prompt.name === 'consent');
  gates.forEach((gate, offset) => {
    const checks = gate.checks.map(
      (check) =>
        new Check(check.reason, check.description, check.error, (ctx) => {
          const facts = gateFactsFor(ctx);
          return facts ? check.applies(facts) : Check.NO_NEED_TO_PROMPT;
        }),
    );
    policy.add(new Prompt({ name: gate.name, requestable: false }, ...checks), consentIndex + offset);
  });
  return policy;
}
