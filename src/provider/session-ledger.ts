import Bowser from 'bowser';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { AccountAccessIndex, StoreAdapter } from '../adapters/index.js';
import { MAX_TTL_SECONDS } from '../adapters/common.js';
import type { Logger } from '../logger.js';
import { tellServices, type AccessRevocation } from './account-revocation.js';
import { CONSOLE_CLIENT_IDS } from '../services/consoles.js';
import { TTL } from './configuration.js';

/** Where and how a session was last used (the provider's Session payload has no room for it). */
interface SessionUse {
  accountId: string;
  ip: string;
  userAgent: string;
  /** epoch seconds */
  lastSeen: number;
}

/** When an account last signed in to a service. */
interface ServiceUse {
  lastUse: number;
}

export interface LedgerSession {
  /** the session's uid: what a form names to end it */
  handle: string;
  current: boolean;
  browser: string;
  device: 'desktop' | 'mobile' | 'tablet' | 'other';
  ip: string | null;
  startedAt: Date;
  lastSeen: Date | null;
  /** the services it signed in to (clients of the provider) */
  clientIds: string[];
}

export interface LedgerService {
  clientId: string;
  scopes: string[];
  firstUse: Date;
  lastUse: Date;
}

export type Ended = Pick<AccessRevocation, 'sessions' | 'grants' | 'notified' | 'notDelivered'>;

/** "Chrome 140 su Linux": what a person recognises of a User-Agent (bowser). */
export function describeBrowser(userAgent: string): { browser: string; device: LedgerSession['device'] } {
  if (!userAgent) return { browser: '', device: 'other' };
  const parsed = Bowser.parse(userAgent);
  const name = [parsed.browser.name, parsed.browser.version?.split('.')[0]].filter(Boolean).join(' ');
  const os = [parsed.os.name, parsed.os.versionName ?? parsed.os.version].filter(Boolean).join(' ');
  const type = parsed.platform.type;
  return {
    browser: [name, os].filter(Boolean).join(' · '),
    device: type === 'desktop' || type === 'mobile' || type === 'tablet' ? type : 'other',
  };
}

/**
 * The account's SSO sessions and the services holding a grant, as the Area riservata shows
 * them, and the two ways out: end a session (a device signed out, the grants it made revoked,
 * its services told by back-channel logout), and revoke a service (every grant of the account
 * to it, its tokens with them; the sessions forget it, the service is told).
 *
 * Sessions and grants come from the adapters' account index; each is checked against its own
 * payload, so an id of another account's session or service never reaches a change. Where a
 * session was last used, and a service last signed in to, are kept beside them in the same
 * store (models SessionUse and ServiceUse) with TTLs of their own.
 */
export function createSessionLedger(deps: {
  provider: Provider;
  index: AccountAccessIndex;
  /** the store of the provider's adapters, for the two models of our own */
  adapter: (model: string) => StoreAdapter;
  logger: Logger;
}) {
  const { provider, index } = deps;
  const sessionUses = deps.adapter('SessionUse');
  const serviceUses = deps.adapter('ServiceUse');
  const log = deps.logger.child({ component: 'session-ledger' });
  const nowSeconds = () => Math.floor(Date.now() / 1000);

  async function ownSessions(accountId: string, sessions?: string[]) {
    sessions ??= (await index.idsForAccount(accountId)).sessions;
    const found = await Promise.all(sessions.map((id) => provider.Session.find(id)));
    return found.filter((s): s is NonNullable<typeof s> => Boolean(s && s.accountId === accountId && s.loginTs));
  }

  async function ownGrants(accountId: string, grants?: string[]) {
    grants ??= (await index.idsForAccount(accountId)).grants;
    const found = await Promise.all(grants.map((id) => provider.Grant.find(id)));
    return found.filter((g): g is NonNullable<typeof g> => Boolean(g && g.accountId === accountId && g.clientId));
  }

  return {
    /** After every authorization (a sign-in, or single sign-on to a service): where, and which service. */
    async recordUse(ctx: Context, session: { uid: string; accountId?: string }, clientId: string): Promise<void> {
      if (!session.accountId) return;
      const at = nowSeconds();
      const use: SessionUse = { accountId: session.accountId, ip: ctx.ip, userAgent: ctx.get('user-agent').slice(0, 512), lastSeen: at };
      await Promise.all([
        sessionUses.upsert(session.uid, use as never, TTL.Session),
        CONSOLE_CLIENT_IDS.has(clientId) ? undefined : serviceUses.upsert(`${session.accountId}:${clientId}`, { lastUse: at } satisfies ServiceUse as never, MAX_TTL_SECONDS),
      ]);
    },

    async sessions(accountId: string, currentSessionId: string): Promise<LedgerSession[]> {
      const sessions = await ownSessions(accountId);
      const uses = await Promise.all(sessions.map((s) => sessionUses.find(s.uid) as Promise<SessionUse | undefined>));
      return sessions.map((session, i) => {
        const use = uses[i]?.accountId === accountId ? uses[i] : undefined;
        const { browser, device } = describeBrowser(use?.userAgent ?? '');
        return {
          handle: session.uid,
          current: session.jti === currentSessionId,
          browser,
          device,
          ip: use?.ip ?? null,
          startedAt: new Date(session.loginTs! * 1000),
          lastSeen: use ? new Date(use.lastSeen * 1000) : null,
          clientIds: Object.keys(session.authorizations ?? {}).filter((id) => !CONSOLE_CLIENT_IDS.has(id)),
        };
      }).sort((a, b) => Number(b.current) - Number(a.current) || (b.lastSeen ?? b.startedAt).getTime() - (a.lastSeen ?? a.startedAt).getTime());
    },

    /**
     * Ends the sessions named (by handle) or, with `allBut`, every session but that one (the
     * caller's). Only the account's own: undefined when a handle names no session of it.
     */
    async end(accountId: string, which: { handle: string } | { allBut: string }): Promise<Ended | undefined> {
      const sessions = await ownSessions(accountId);
      const chosen = 'handle' in which ? sessions.filter((s) => s.uid === which.handle) : sessions.filter((s) => s.jti !== which.allBut);
      if ('handle' in which && chosen.length === 0) return undefined;
      const grantIds = new Set<string>();
      const notices: Array<{ clientId: string; sid: string | undefined; sub: string }> = [];
      for (const session of chosen) {
        for (const [clientId, authorization] of Object.entries(session.authorizations ?? {})) {
          if (authorization.grantId) grantIds.add(authorization.grantId);
          notices.push({ clientId, sid: authorization.sid, sub: accountId });
        }
        await index.endSession(session.jti);
      }
      await Promise.all([...grantIds].map((id) => index.revokeGrant(id)));
      return { sessions: chosen.length, grants: grantIds.size, ...(await tellServices(provider, notices, log)) };
    },

    /** One row per service holding a grant of the account (the provider's own consoles left out). */
    async services(accountId: string): Promise<LedgerService[]> {
      const byClient = new Map<string, LedgerService>();
      for (const grant of await ownGrants(accountId)) {
        const clientId = grant.clientId!;
        if (CONSOLE_CLIENT_IDS.has(clientId)) continue;
        const issued = new Date((grant.iat ?? nowSeconds()) * 1000);
        const row = byClient.get(clientId) ?? { clientId, scopes: [], firstUse: issued, lastUse: issued };
        row.scopes = [...new Set([...row.scopes, ...grant.getOIDCScope().split(' ').filter(Boolean)])];
        if (issued < row.firstUse) row.firstUse = issued;
        if (issued > row.lastUse) row.lastUse = issued;
        byClient.set(clientId, row);
      }
      const rows = [...byClient.values()];
      const uses = await Promise.all(rows.map((r) => serviceUses.find(`${accountId}:${r.clientId}`) as Promise<ServiceUse | undefined>));
      rows.forEach((row, i) => {
        const last = uses[i] ? new Date(uses[i]!.lastUse * 1000) : undefined;
        if (last && last > row.lastUse) row.lastUse = last;
      });
      return rows.sort((a, b) => b.lastUse.getTime() - a.lastUse.getTime());
    },

    /**
     * Revokes every grant of the account to one service (its codes, access and refresh tokens
     * go with them); each session forgets the service, which is told by back-channel logout.
     * Undefined when the account holds no grant to it.
     */
    async revokeService(accountId: string, clientId: string): Promise<Ended | undefined> {
      if (CONSOLE_CLIENT_IDS.has(clientId)) return undefined;
      const ids = await index.idsForAccount(accountId);
      const grants = (await ownGrants(accountId, ids.grants)).filter((g) => g.clientId === clientId);
      if (grants.length === 0) return undefined;
      const notices: Array<{ clientId: string; sid: string | undefined; sub: string }> = [];
      for (const session of await ownSessions(accountId, ids.sessions)) {
        const authorization = session.authorizations?.[clientId];
        if (!authorization) continue;
        notices.push({ clientId, sid: authorization.sid, sub: accountId });
        delete session.authorizations![clientId];
        await session.save(Math.max(60, (session.exp ?? 0) - nowSeconds()));
      }
      await Promise.all(grants.map((g) => index.revokeGrant(g.jti)));
      await serviceUses.destroy(`${accountId}:${clientId}`);
      return { sessions: 0, grants: grants.length, ...(await tellServices(provider, notices, log)) };
    },
  };
}

export type SessionLedger = ReturnType<typeof createSessionLedger>;
