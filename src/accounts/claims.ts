import { referenceEmail, type Account } from './account.js';

// What a service may learn of a person: the claims by scope, and their values for an account.
// Pure: the provider (findAccount, the claims configuration) and the consent page read them.

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

/** Claims about the sign-in itself, not the person: every service may receive them. */
const SIGN_IN_CLAIMS = ['sub', 'sid', 'auth_time', 'acr', 'amr', 'iss'] as const;

/** The scope a person's claim is released under, if any. */
export function scopeOfClaim(claim: string): keyof typeof CLAIMS_BY_SCOPE | undefined {
  return (Object.keys(CLAIMS_BY_SCOPE) as Array<keyof typeof CLAIMS_BY_SCOPE>).find((scope) =>
    (CLAIMS_BY_SCOPE[scope] as readonly string[]).includes(claim));
}

/** Every claim a service registered for `scope` (space-separated) may ever receive. */
export function releasableClaims(scope: string | undefined): Set<string> {
  const scopes = new Set(scope?.split(' '));
  const claims = new Set<string>(SIGN_IN_CLAIMS);
  for (const [name, members] of Object.entries(CLAIMS_BY_SCOPE)) {
    if (scopes.has(name)) members.forEach((claim) => claims.add(claim));
  }
  return claims;
}

/** The person's claims, before the service's scopes filter them. */
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
