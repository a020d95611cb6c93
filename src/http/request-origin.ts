import type { Middleware } from 'koa';
import { trustedProxyList, type ProxyTrust } from '../config.js';
import { DomainError } from '../errors.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Logger } from '../logger.js';
import { clientAddress, peerIsTrustedProxy } from './client-address.js';

/**
 * Answered on any host: what an orchestrator calls on the container's own address, and
 * static files (they publish no URL, and the refusal page needs its stylesheet).
 */
const PROBES = new Set(['/health', '/healthz', '/readyz', '/metrics']);
const answersAnyHost = (path: string) => PROBES.has(path) || path.startsWith('/assets/');

/**
 * Pins every request to the issuer's origin before anything reads it.
 *
 * oidc-provider builds the absolute URLs it publishes from the request (Host, or
 * X-Forwarded-Host/-Proto when Koa trusts proxies); cookies get `Secure` from the same
 * place. So the forwarding headers are checked here once and rewritten to what the
 * configuration says: the host and scheme of ISSUER, and the client address that the
 * trusted proxies vouch for. A request naming another host is refused. The app then runs
 * with `proxy = true`, reading only these rewritten headers.
 */
export function pinRequestOrigin(options: { issuer: string; proxy: ProxyTrust; logger: Logger; audit: AuditLog }): Middleware {
  const issuer = new URL(options.issuer);
  const proxies = trustedProxyList(options.proxy);
  const scheme = issuer.protocol.slice(0, -1);

  return async (ctx, next) => {
    const headers = ctx.req.headers;
    const peer = ctx.req.socket.remoteAddress ?? '';
    const viaProxy = peerIsTrustedProxy(peer, options.proxy, proxies);
    const requestedHost = (viaProxy ? firstValue(headers['x-forwarded-host']) : undefined) ?? headers.host ?? '';
    const ip = clientAddress(peer, viaProxy ? firstValue(headers['x-forwarded-for'], false) : undefined, options.proxy, proxies);

    delete headers['x-forwarded-for'];
    delete headers.forwarded;
    headers['x-forwarded-host'] = issuer.host;
    headers['x-forwarded-proto'] = scheme;
    ctx.request.ip = ip;

    // An absolute-form request line (GET http://other/path) names its own host, and Koa's
    // ctx.href would return it as the request's URL: the host must match, and the rest of
    // the app sees the origin form.
    let targetHost = requestedHost;
    const absolute = /^[a-z][a-z0-9+.-]*:\/\//i.test(ctx.req.url ?? '') ? URL.parse(ctx.req.url!) : null;
    if (absolute) {
      targetHost = absolute.host;
      ctx.url = `${absolute.pathname}${absolute.search}`;
      ctx.originalUrl = ctx.url;
    }

    const forOtherHost = !sameHost(requestedHost, issuer) || (absolute !== null && !sameHost(targetHost, issuer));
    if (forOtherHost && !answersAnyHost(ctx.path)) {
      const host = (sameHost(requestedHost, issuer) ? targetHost : requestedHost).slice(0, 100);
      await options.audit
        .record({ actorKind: 'anonymous', action: 'request.wrong_host', outcome: 'refused', ip, userAgent: ctx.get('user-agent'), details: { host, path: ctx.path.slice(0, 200) } })
        .catch((error: unknown) => options.logger.error({ err: error }, 'audit entry not written'));
      throw new DomainError('error.wrong_host', { status: 421, vars: { issuer: issuer.origin } });
    }
    await next();
  };
}

/** The first of a comma-separated header value (or the whole, for X-Forwarded-For). */
function firstValue(value: string | string[] | undefined, firstOnly = true): string | undefined {
  const joined = Array.isArray(value) ? value.join(',') : value;
  if (!joined) return undefined;
  return firstOnly ? joined.split(',')[0]!.trim() : joined;
}

function sameHost(host: string, issuer: URL): boolean {
  try {
    return new URL(`${issuer.protocol}//${host}`).host === issuer.host;
  } catch {
    return false;
  }
}
