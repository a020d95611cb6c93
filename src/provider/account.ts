import type { Account as OidcAccount, FindAccount } from 'oidc-provider';
import { referenceEmail, type Account } from '../accounts/account.js';
import type { AccountRepository } from '../accounts/repository.js';

/** The claim name SPID/CIE OpenID Connect uses for the fiscal number, value `TINIT-<CF>`. */
export const FISCAL_NUMBER_CLAIM = 'https://attributes.eid.gov.it/fiscal_number';

export const CLAIMS_BY_SCOPE = {
  openid: ['sub'],
  profile: ['given_name', 'family_name', 'name', 'preferred_username', 'birthdate', 'gender', 'account_type'],
  email: ['email', 'email_verified'],
  phone: ['phone_number', 'phone_number_verified'],
  address: ['address'],
  fiscal_number: [FISCAL_NUMBER_CLAIM],
} as const;

/** What our gates need beside oidc-provider's account shape. */
export interface ProviderAccount extends OidcAccount {
  account: Account;
}

export function accountClaims(account: Account): Record<string, unknown> {
  const email = referenceEmail(account);
  const a = account.address;
  const hasAddress = Object.values(a).some((v) => v);
  return {
    sub: account.id,
    given_name: account.givenName,
    family_name: account.familyName,
    name: `${account.givenName} ${account.familyName}`,
    preferred_username: account.username,
    birthdate: account.birthDate,
    gender: account.sex === 'F' ? 'female' : 'male',
    account_type: account.type,
    ...(email ? { email: email.address, email_verified: email.verified } : {}),
    ...(account.mobilePhone ? { phone_number: account.mobilePhone, phone_number_verified: false } : {}),
    ...(hasAddress
      ? {
          address: {
            ...(a.street ? { street_address: a.street } : {}),
            ...(a.postalCode ? { postal_code: a.postalCode } : {}),
            ...(a.municipality ? { locality: a.municipality } : {}),
            ...(a.province ? { region: a.province } : {}),
            ...(a.country ? { country: a.country } : {}),
          },
        }
      : {}),
    [FISCAL_NUMBER_CLAIM]: `TINIT-${account.fiscalCode}`,
  };
}

/**
 * oidc-provider filters claims by the granted scopes and requested claims; the
 * fiscal number is further held back from services not registered for it, even
 * when asked for through the claims parameter.
 */
export function createFindAccount(accounts: AccountRepository): FindAccount {
  return async (ctx, sub) => {
    const account = await accounts.findById(sub);
    if (!account) return undefined;
    const providerAccount: ProviderAccount = {
      accountId: account.id,
      account,
      async claims() {
        const claims = accountClaims(account);
        const allowed = ctx.oidc.client?.scope?.split(' ') ?? [];
        if (!allowed.includes('fiscal_number')) delete claims[FISCAL_NUMBER_CLAIM];
        return claims as { sub: string };
      },
    };
    return providerAccount;
  };
}
