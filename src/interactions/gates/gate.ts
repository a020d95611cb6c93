import type { PasswordRule } from '../../accounts/password-policy.js';
import type { PasswordService } from '../../accounts/passwords.js';
import type { SecondFactor } from '../../accounts/second-factor.js';
import type { EnablementService } from '../../enablement/service.js';
import type { Translate } from '../../i18n/index.js';
import type { GateFacts } from '../facts.js';

/** What gates with a form act through. */
export interface GateServices {
  passwords: PasswordService;
  secondFactor: SecondFactor;
  enablement: EnablementService;
}

/** A gate cleared by a new authentication step: the SSO session's acr and amr become these. */
export interface Authenticated {
  authenticated: { acr: string; amr: string[] };
}

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

export interface GateInput {
  facts: GateFacts;
  reasons: string[];
  t: Translate;
  /** the password policy's rules, for pages that set a password */
  passwordRules: PasswordRule[];
  /** what gates with a form act through (the router always gives them; unit tests of pure pages need not) */
  services?: GateServices;
}

/**
 * A step the sign-in must clear after the login method, modelled as a
 * non-requestable oidc-provider prompt. Refusal gates have no `submit`: the only
 * way on is back to the service with access_denied. A gate with a form clears when
 * its `submit` changes what its checks look at, and answers 'cleared'.
 */
export interface Gate {
  name: string;
  checks: GateCheck[];
  show(input: GateInput): GatePage | Promise<GatePage>;
  submit?(input: GateInput & { form: Record<string, unknown>; services: GateServices; from: { ip: string; userAgent?: string; clientId: string } }): Promise<GatePage | 'cleared' | Authenticated>;
}
