import type { Account } from '../accounts/account.js';
import type { GateCheck } from './gates/gate.js';

/**
 * Whether the account's sessions were ended after a sign-in at `loginTs` (seconds). loginTs
 * is in whole seconds: a sign-in in the very second of the revocation counts as after it, or
 * the person signing in again at once would be sent back to the login page.
 */
export function revokedSince(account: Pick<Account, 'accessRevokedAt'>, loginTs: number | undefined): boolean {
  return account.accessRevokedAt !== null && (loginTs ?? 0) < Math.floor(account.accessRevokedAt.getTime() / 1000);
}

/**
 * Checks added to the library's `login` prompt: when one fires, the existing SSO session
 * does not count and the person signs in again (with prompt=none: login_required).
 */
export const SESSION_CHECKS: readonly GateCheck[] = [
  {
    reason: 'access_revoked',
    description: "the account's sessions were ended after this sign-in",
    error: 'login_required',
    applies: ({ account, session }) => revokedSince(account, session.loginTs),
  },
];
