import type { Translate } from '../../i18n/index.js';
import type { GateFacts } from '../facts.js';

/** One reason a gate can fire: a pure predicate over the facts. */
export interface GateCheck {
  /** snake_case, shown to the view through `prompt.reasons` */
  reason: string;
  description: string;
  /** the OAuth error returned to the service with prompt=none */
  error: string;
  applies(facts: GateFacts): boolean;
}

export interface GatePage {
  /** view under views/, e.g. 'gates/account-state' */
  view: string;
  status: number;
  locals: Record<string, unknown>;
}

/**
 * A step the sign-in must clear after the login method, modelled as a
 * non-requestable oidc-provider prompt. Refusal gates have no `submit`: the only
 * way on is back to the service with access_denied.
 */
export interface Gate {
  name: string;
  checks: GateCheck[];
  show(input: { facts: GateFacts; reasons: string[]; t: Translate }): GatePage | Promise<GatePage>;
}
