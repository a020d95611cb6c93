import type Provider from 'oidc-provider';
import type { AccountAccessIndex } from '../adapters/index.js';
import type { Logger } from '../logger.js';

export interface AccessRevocation {
  sessions: number;
  grants: number;
  /** back-channel logout notices delivered / not delivered */
  notified: number;
  notDelivered: number;
}

/**
 * Ends everything an account holds at the provider; safe to call again. `keepSession` (a
 * session's id) spares the browser asking (a password changed in the Area riservata): its
 * SSO session stays, while every grant — its own services' too — is revoked.
 */
export type RevokeAccountAccess = (accountId: string, options?: { keepSession?: string }) => Promise<AccessRevocation>;

/** lib/models/client.js has it; @types/oidc-provider does not declare it. */
interface BackchannelLogoutClient {
  clientId: string;
  backchannelLogoutUri?: string;
  backchannelLogout(sub: string, sid: string | undefined): Promise<void>;
}

/**
 * What a logout of every session does (lib/actions/end_session.js), for an account rather
 * than a browser: each SSO session is destroyed, every grant revoked with its codes, access
 * and refresh tokens, and the services of those sessions that registered a back-channel
 * logout URI are told, with the session's `sid` for each.
 *
 * Sessions and grants go first and the services are told last, so a service reacting to the
 * logout token finds nothing left to refresh. A token issued by a request already under way
 * is not stored (the adapters mark the grant revoked), and findAccount refuses a suspended
 * account outside sign-in besides.
 */
export function createAccountAccessRevocation(deps: {
  provider: Provider;
  index: AccountAccessIndex;
  logger: Logger;
}): RevokeAccountAccess {
  const { provider, index } = deps;
  const log = deps.logger.child({ component: 'account-revocation' });

  return async (accountId, options = {}) => {
    const { sessions, grants } = await index.idsForAccount(accountId);
    const grantIds = new Set(grants);
    const notices: Array<{ clientId: string; sid: string | undefined; sub: string }> = [];
    let sessionsEnded = 0;

    for (const id of sessions) {
      const session = await provider.Session.find(id);
      // the index is kept by the adapters; the payload has the last word on whose session it is
      if (!session || session.accountId !== accountId) continue;
      const kept = session.jti === options.keepSession;
      for (const [clientId, authorization] of Object.entries(session.authorizations ?? {})) {
        if (authorization.grantId) grantIds.add(authorization.grantId);
        if (!kept) notices.push({ clientId, sid: authorization.sid, sub: accountId });
      }
      if (kept) continue;
      await index.endSession(session.jti);
      sessionsEnded += 1;
    }

    await Promise.all([...grantIds].map((grantId) => index.revokeGrant(grantId)));

    const delivered = await tellServices(provider, notices, log);

    return {
      sessions: sessionsEnded,
      grants: grantIds.size,
      ...delivered,
    };
  };
}

/**
 * Back-channel logout (OpenID Connect Back-Channel Logout 1.0) to each service that registered
 * a URI, with the session's `sid`; services without one are skipped, a failure is logged.
 */
export async function tellServices(
  provider: Provider,
  notices: Array<{ clientId: string; sid: string | undefined; sub: string }>,
  log: Logger,
): Promise<Pick<AccessRevocation, 'notified' | 'notDelivered'>> {
  const delivered = await Promise.all(notices.map(async ({ clientId, sid, sub }) => {
    const client = (await provider.Client.find(clientId)) as unknown as BackchannelLogoutClient | undefined;
    if (!client?.backchannelLogoutUri) return undefined;
    try {
      await client.backchannelLogout(sub, sid);
      return true;
    } catch (error) {
      log.warn({ err: error, clientId }, 'back-channel logout delivery failed');
      return false;
    }
  }));
  return { notified: delivered.filter((d) => d === true).length, notDelivered: delivered.filter((d) => d === false).length };
}
