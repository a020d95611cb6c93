import type { Account as OidcAccount, FindAccount } from 'oidc-provider';
import type { Account } from '../accounts/account.js';
import type { AccountRepository } from '../accounts/repository.js';
import type { SecondFactorStatus } from '../accounts/second-factor.js';
import type { Enablement } from '../enablement/repository.js';
import { serviceFromClient } from '../services/catalogue.js';
import { accountClaims, releasableClaims } from '../accounts/claims.js';

/** What our gates need beside oidc-provider's account shape. */
export interface ProviderAccount extends OidcAccount {
  account: Account;
  /** loaded while signing in, for the second_factor gate */
  secondFactor?: SecondFactorStatus;
  /** loaded while signing in to a service that needs enablement, for the enablement gate */
  enablement?: Enablement | null;
}

/** The account's live enablement request for a service (enablement/repository.ts). */
export type EnablementOf = (accountId: string, serviceId: string) => Promise<Enablement | undefined>;


/**
 * Keeps the account loaded while a code was issued for the moment the service
 * redeems it (milliseconds later, as a rule): one query less per sign-in, which
 * matters at a peak. Only the token endpoint takes from it, once; every
 * authorization and userinfo request reads the database.
 */
class RecentlyLoadedAccounts {
  private readonly entries = new Map<string, { account: Account; expires: number }>();

  constructor(private readonly ttlMs = 10_000, private readonly maxEntries = 10_000) {}

  remember(account: Account): void {
    this.entries.delete(account.id);
    this.entries.set(account.id, { account, expires: Date.now() + this.ttlMs });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  take(id: string): Account | undefined {
    const entry = this.entries.get(id);
    this.entries.delete(id);
    return entry && entry.expires > Date.now() ? entry.account : undefined;
  }
}

/**
 * oidc-provider filters claims by the granted scopes and requested claims; on top of
 * that nothing leaves for a service beyond the scopes it is registered for, whatever
 * the claims parameter asked (the claims parameter is also trimmed on arrival).
 */
const SIGN_IN_ROUTES: ReadonlySet<string> = new Set(['authorization', 'resume']);

export function createFindAccount(accounts: AccountRepository, secondFactorStatus: (accountId: string) => Promise<SecondFactorStatus>, enablementOf: EnablementOf): FindAccount {
  const recent = new RecentlyLoadedAccounts();
  return async (ctx, sub) => {
    const client = ctx.oidc.client;
    const signInState = async (accountId: string) => ({
      secondFactor: await secondFactorStatus(accountId),
      enablement: client && serviceFromClient(client).enablementRequired ? (await enablementOf(accountId, client.clientId)) ?? null : null,
    });
    const route = ctx.oidc.route;
    // only a code redemption may reuse the account loaded when its code was issued: a refresh
    // can come hours later, and must see a suspension at once
    const redeemingCode = route === 'token' && ctx.oidc.params?.grant_type === 'authorization_code';
    const account = (redeemingCode ? recent.take(sub) : undefined) ?? (await accounts.findById(sub));
    if (!account) return undefined;
    // During sign-in the account_state gate explains the block; everywhere else (token,
    // userinfo, refresh) a suspended or dormant account is as good as gone.
    if (!SIGN_IN_ROUTES.has(route) && account.status !== 'active') return undefined;
    if (route === 'resume' || route === 'authorization') recent.remember(account);
    const providerAccount: ProviderAccount = {
      accountId: account.id,
      account,
      ...(SIGN_IN_ROUTES.has(route) ? await signInState(account.id) : {}),
      async claims() {
        const releasable = releasableClaims(ctx.oidc.client?.scope);
        const claims = Object.fromEntries(Object.entries(accountClaims(account)).filter(([claim]) => releasable.has(claim)));
        return claims as { sub: string };
      },
    };
    return providerAccount;
  };
}
