import { accountState } from './account-state.js';
import type { Gate } from './gate.js';
import { passwordChange } from './password-change.js';
import { serviceAccess } from './service-access.js';

/**
 * The gates after the login method, in the order DOMAIN.md §5 walks them.
 * Second factor and enablement take their places between password_change and
 * service_access as they are built.
 */
export const GATES: readonly Gate[] = [accountState, passwordChange, serviceAccess];

export function gateNamed(name: string): Gate | undefined {
  return GATES.find((gate) => gate.name === name);
}
