import type { Account } from '../accounts/account.js';
import type { SecondFactorStatus } from '../accounts/second-factor.js';
import type { Service } from '../services/catalogue.js';
import type { Enablement } from '../enablement/repository.js';

/** Everything a gate's checks may look at; built once per request. */
export interface GateFacts {
  account: Account;
  service: Service;
  session: { acr?: string; amr?: string[]; loginTs?: number };
  /** acr values the service asked for in this request (acr_values or its defaults) */
  requestedAcr: string[];
  /** a confirmed second factor; a security officer profile at some school */
  secondFactor: SecondFactorStatus;
  /** the account's live enablement request for the service, when the service needs one */
  enablement: Enablement | null;
  now: Date;
}

export function buildGateFacts(input: {
  account: Account;
  service: Service;
  session?: { acr?: string; amr?: string[]; loginTs?: number };
  acrValues?: unknown;
  secondFactor?: SecondFactorStatus;
  enablement?: Enablement | null;
  now?: Date;
}): GateFacts {
  return {
    account: input.account,
    service: input.service,
    session: input.session ?? {},
    requestedAcr: typeof input.acrValues === 'string' ? input.acrValues.split(' ').filter(Boolean) : [],
    secondFactor: input.secondFactor ?? { enrolled: false, officer: false },
    enablement: input.enablement ?? null,
    now: input.now ?? new Date(),
  };
}
