import { accountState } from './account-state.js';
import { enablement } from './enablement.js';
import type { Gate } from './gate.js';
import { passwordChange } from './password-change.js';
import { secondFactor } from './second-factor.js';
import { serviceAccess } from './service-access.js';

/** The gates after the login method, in the order DOMAIN.md §5 walks them. */
export const GATES: readonly Gate[] = [accountState, passwordChange, secondFactor, enablement, serviceAccess];

export function gateNamed(name: string): Gate | undefined {
  return GATES.find((gate) => gate.name === name);
}
