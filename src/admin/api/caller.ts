import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { ADMIN_API_SCOPE } from '../../services/catalogue.js';
import { ADMIN_CONSOLE } from '../../services/consoles.js';
import type { ServiceRepository } from '../../services/repository.js';
import type { SignedInReader } from '../../provider/sso-session.js';
import type { Administrators } from '../administrators.js';
import type { ApiCaller } from './operation.js';
import { problem, type Answer } from './problems.js';

export interface CallerDeps {
  provider: Provider;
  catalogue: ServiceRepository;
  signedIn: SignedInReader;
  administrators: Administrators;
}

/** Content types a cross-site form cannot send without a CORS preflight, which this API never grants. */
const PREFLIGHTED_TYPES = ['application/json', 'text/csv'];

const bearerRefusal = (ctx: Context, kind: 'unauthorized' | 'forbidden', error: string, detail: string): Answer => {
  ctx.set('WWW-Authenticate', `Bearer realm="admin", error="${error}"${error === 'insufficient_scope' ? `, scope="${ADMIN_API_SCOPE}"` : ''}`);
  return problem(kind, detail);
};

/**
 * Who is calling, or why nobody is: a bearer token from client_credentials with the admin
 * scope, of a service that still has that scope and is enabled (read at every request); or the
 * console's own session, of an administrator with two factors. A change sent with the session
 * must be JSON (or CSV): the browser preflights those cross-site, so a forged form cannot.
 */
export async function identifyCaller(ctx: Context, deps: CallerDeps): Promise<ApiCaller | Answer> {
  const authorization = ctx.get('authorization');
  if (authorization) {
    const value = /^Bearer ([\w.~+/-]+=*)$/i.exec(authorization)?.[1];
    if (!value) return bearerRefusal(ctx, 'unauthorized', 'invalid_request', 'the Authorization header must be Bearer <token>');
    const token = await deps.provider.ClientCredentials.find(value);
    if (!token?.clientId) return bearerRefusal(ctx, 'unauthorized', 'invalid_token', 'the token is unknown or expired: ask /token for a new one (client_credentials, scope admin)');
    if (!token.scopes.has(ADMIN_API_SCOPE)) return bearerRefusal(ctx, 'forbidden', 'insufficient_scope', `the token lacks the ${ADMIN_API_SCOPE} scope`);
    const client = await deps.catalogue.find(token.clientId);
    if (!client || client.disabledAt || !client.settings.scopes.includes(ADMIN_API_SCOPE)) {
      return bearerRefusal(ctx, 'forbidden', 'insufficient_scope', `${token.clientId} is no longer an enabled admin client`);
    }
    return { kind: 'service', clientId: client.id };
  }
  const signedIn = await deps.signedIn(ctx);
  if (!signedIn || !signedIn.session.clientIds.includes(ADMIN_CONSOLE.clientId)) {
    ctx.set('WWW-Authenticate', 'Bearer realm="admin"');
    return problem('unauthorized');
  }
  if (!(await deps.administrators.isAdministrator(signedIn.account.id))) return problem('forbidden', 'this account is not an administrator');
  if (!signedIn.session.amr.includes('otp')) return problem('forbidden', 'sign in to the admin console with the second factor first');
  if (ctx.method !== 'GET' && !ctx.is(PREFLIGHTED_TYPES)) {
    return problem('forbidden', 'with the console’s session, a change must be sent as application/json (or text/csv for the staff import)');
  }
  return { kind: 'admin', accountId: signedIn.account.id, username: signedIn.account.username };
}
