import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';

/**
 * Models whose entries belong to a grant and go when it is revoked: the list oidc-provider's
 * own adapter uses (lib/adapters/memory_adapter.js) and lib/helpers/revoke.js walks.
 * ClientCredentials tokens carry no grantId.
 */
export const GRANTABLE_MODELS: ReadonlySet<string> = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PreAuthorizedCode',
]);

/** Models indexed by the account they belong to (their payloads carry `accountId`). */
export const ACCOUNT_INDEXED_MODELS: ReadonlySet<string> = new Set(['Session', 'Grant']);

/**
 * Lifetime of an entry stored without expiresIn. The library omits it only for Client
 * metadata (dynamic registration, which we keep off); every other model passes its ttl, the
 * longest by default being 14 days (Session, Grant, RefreshToken). 30 days never cuts a live
 * artifact short, yet nothing stays forever if a model or ttl function forgets to say.
 * It is also how long a revoked grant stays marked: longer than anything carrying its id.
 */
export const MAX_TTL_SECONDS = 30 * 24 * 60 * 60;

/** The SSO sessions and grants an account holds, by id. */
export interface AccountEntries {
  sessions: string[];
  grants: string[];
}

/** What our adapters offer beside oidc-provider's contract, for revoking an account's access. */
export interface AccountAccessIndex {
  /** Live Session and Grant entries whose payload names this account. */
  idsForAccount(accountId: string): Promise<AccountEntries>;
  /**
   * Deletes every member of the grant and the Grant entry itself, and marks the grant
   * revoked: an entry of it saved afterwards (a token issued by a request already under
   * way, or the Grant saved again) is not stored.
   */
  revokeGrant(grantId: string): Promise<void>;
  /**
   * Deletes the Session entry and marks it ended: a save of it afterwards (the end of a
   * request of that browser already under way) is not stored, so an ended session stays ended.
   */
  endSession(sessionId: string): Promise<void>;
}

export interface StoreAdapter extends Adapter, AccountAccessIndex {}

/** The grant an entry lives or dies with: its own id for a Grant, its grantId for a grantable model. */
export function grantOf(model: string, id: string, payload: AdapterPayload): string | undefined {
  if (model === 'Grant') return id;
  if (GRANTABLE_MODELS.has(model) && typeof payload.grantId === 'string') return payload.grantId;
  return undefined;
}

const LABELS: Record<string, string> = {
  AuthorizationCode: 'authorization code',
  RefreshToken: 'refresh token',
  DeviceCode: 'device code',
  BackchannelAuthenticationRequest: 'backchannel authentication request',
  PreAuthorizedCode: 'pre-authorized code',
};

/** consume() found the entry consumed already: a replay, answered as the library answers it. */
export function alreadyConsumed(model: string): Error {
  return new errors.InvalidGrant(`${LABELS[model] ?? model} already consumed`);
}

/** consume() found no entry: expired or revoked since the provider read it. */
export function notFound(model: string): Error {
  return new errors.InvalidGrant(`${LABELS[model] ?? model} not found`);
}

/**
 * The in-process store holds as many interactions (sign-ins under way) as it may: a new
 * one is refused, with a page that says the service is overloaded, until some expire.
 */
export class StoreFullError extends Error {
  constructor(readonly model: string) {
    super(`the in-process store holds its maximum of ${model} entries`);
    this.name = 'StoreFullError';
  }
}
