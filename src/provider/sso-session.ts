import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { blockingState, type Account } from '../accounts/account.js';
import type { AccountRepository } from '../accounts/repository.js';
import { revokedSince } from '../interactions/session-checks.js';

/** The provider's SSO session as our own pages see it. */
export interface SsoSession {
  /** the session's id (its cookie's value) */
  id: string;
  uid: string;
  accountId: string;
  acr?: string;
  amr: string[];
  /** seconds since the epoch */
  loginTs: number;
  /** the services (clients) this session has signed in to */
  clientIds: string[];
}

export interface SignedIn {
  account: Account;
  session: SsoSession;
}

/**
 * Our consoles (officer, later the Area riservata and the administration) are signed in
 * through the provider's own SSO session, read with its API on every request: there is no
 * second login system, a logout anywhere ends them too, and an account suspended, locked or
 * whose sessions were ended since that sign-in is signed out at once.
 */
export function createSignedInReader(deps: { provider: Provider; accounts: AccountRepository; now?: () => Date }) {
  const now = deps.now ?? (() => new Date());
  return async function signedIn(ctx: Context): Promise<SignedIn | undefined> {
    const session = await deps.provider.Session.get(ctx);
    if (!session.accountId || !session.loginTs) return undefined;
    const account = await deps.accounts.findById(session.accountId);
    if (!account || blockingState(account, now()) !== null || revokedSince(account, session.loginTs)) return undefined;
    return {
      account,
      session: {
        id: session.jti,
        uid: session.uid,
        accountId: session.accountId,
        acr: session.acr,
        amr: session.amr ?? [],
        loginTs: session.loginTs,
        clientIds: Object.keys(session.authorizations ?? {}),
      },
    };
  };
}

export type SignedInReader = ReturnType<typeof createSignedInReader>;
