import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { createRemoteJWKSet, type JWTVerifyGetKey } from 'jose';
import type { Configuration } from 'openid-client';
import { asymmetricAlgorithms } from './backchannel.js';
import { loadClient, type DemoClient } from './clients.js';
import { discoverProvider, isLoopback, type TokenEndpointAuthMethod } from './oidc.js';
import { createRoutes, type BackchannelLogoutRecord, type RejectedBackchannelLogout } from './routes.js';
import { SessionStore, type SessionStoreOptions } from './sessions.js';
import { errorPage } from './views.js';

export type { DemoClient } from './clients.js';
export type { BackchannelLogoutRecord, RejectedBackchannelLogout } from './routes.js';
export type { Session, SessionLimits, SessionStoreOptions, SignIn } from './sessions.js';

export interface DemoRpOptions {
  /** A service id from the clients file; ignored when `client` is given. */
  serviceId?: string;
  /** The client definition itself, instead of looking it up in the clients file. */
  client?: DemoClient;
  issuer: string;
  /** Default ./clients.json (relative to the working directory). */
  clientsFile?: string;
  /** Default the service's demoPort, else 0 (any free port). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default: the client's first redirect URI with the bound port, else <url>/callback. */
  redirectUri?: string;
  /** Default: the client's first post-logout URI with the bound port, else <url>/. */
  postLogoutRedirectUri?: string;
  /** Must match how the provider registered the client; default client_secret_basic. */
  tokenEndpointAuthMethod?: TokenEndpointAuthMethod;
  /** Where one-line diagnostics go; default console.error. */
  log?: (line: string) => void;
  /** Bounds and clock of the session store; defaults in DEFAULT_SESSION_LIMITS. */
  sessionStore?: SessionStoreOptions;
}

export interface DemoRp {
  /** Base URL to open in a browser or drive from a test, e.g. http://localhost:4001. */
  url: string;
  redirectUri: string;
  postLogoutRedirectUri: string;
  client: DemoClient;
  /** openid-client configuration, for tests that want to call the provider as this client. */
  config: Configuration;
  /** Live local sessions (in memory). */
  sessions: SessionStore;
  /** Accepted back-channel logouts, oldest first (a live array). */
  backchannelLogouts: BackchannelLogoutRecord[];
  /** Refused logout tokens with the reason (a live array). */
  rejectedBackchannelLogouts: RejectedBackchannelLogout[];
  close(): Promise<void>;
}

export async function createDemoRp(options: DemoRpOptions): Promise<DemoRp> {
  const log = options.log ?? ((line: string) => console.error(line));
  const service = options.client ?? await loadServiceFromFile(options);
  const config = await discoverProvider(options.issuer, service, options.tokenEndpointAuthMethod);

  const host = options.host ?? '127.0.0.1';
  const server = createServer();
  await listen(server, options.port ?? service.demoPort ?? 0, host);
  const port = (server.address() as AddressInfo).port;

  const redirectUri = options.redirectUri ?? followPort(service.redirectUris[0], port) ?? `${baseUrl(host, port)}/callback`;
  // Same host name as the redirect URI, so the session cookie set at /login comes back at /callback.
  const redirect = new URL(redirectUri);
  const url = isLoopback(redirect) ? `http://${redirect.hostname}:${port}` : baseUrl(host, port);
  const postLogoutRedirectUri = options.postLogoutRedirectUri
    ?? followPort(service.postLogoutRedirectUris[0], port)
    ?? `${url}/`;

  const metadata = config.serverMetadata();
  const sessions = new SessionStore(options.sessionStore);
  const backchannelLogouts: BackchannelLogoutRecord[] = [];
  const rejectedBackchannelLogouts: RejectedBackchannelLogout[] = [];

  const routes = createRoutes({
    service,
    config,
    redirectUri,
    postLogoutRedirectUri,
    sessions,
    // Cookies ignore ports: two demo services on localhost must not share one cookie name.
    cookie: { name: `demo_rp_${service.id.replace(/[^A-Za-z0-9_-]/g, '_')}`, secure: redirect.protocol === 'https:' },
    logoutToken: {
      issuer: metadata.issuer,
      clientId: service.id,
      keys: metadata.jwks_uri ? createRemoteJWKSet(new URL(metadata.jwks_uri)) : noKeys,
      algorithms: asymmetricAlgorithms(metadata.id_token_signing_alg_values_supported),
    },
    backchannelLogouts,
    rejectedBackchannelLogouts,
    log: (line) => log(`demo-rp ${service.id}: ${line}`),
  });

  const app = new Koa();
  app.use(securityHeaders(new URL(metadata.issuer).origin));
  app.use(errorPages({ serviceName: service.name, serviceId: service.id }, (line) => log(`demo-rp ${service.id}: ${line}`)));
  app.use(routes.routes());
  app.use(routes.allowedMethods());
  server.on('request', app.callback());

  return {
    url,
    redirectUri,
    postLogoutRedirectUri,
    client: service,
    config,
    sessions,
    backchannelLogouts,
    rejectedBackchannelLogouts,
    close: () => close(server),
  };
}

async function loadServiceFromFile(options: DemoRpOptions): Promise<DemoClient> {
  if (!options.serviceId) throw new Error('either serviceId or client is required');
  return loadClient(options.clientsFile ?? './clients.json', options.serviceId);
}

/** A registered loopback URI moved to the port actually bound; other URIs are left alone. */
function followPort(uri: string | undefined, port: number): string | undefined {
  if (!uri) return undefined;
  const url = new URL(uri);
  if (isLoopback(url)) url.port = String(port);
  return url.href;
}

function baseUrl(host: string, port: number): string {
  const name = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return `http://${name}:${port}`;
}

const noKeys: JWTVerifyGetKey = () => {
  throw new Error('the provider announces no jwks_uri');
};

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      reject(new Error(err.code === 'EADDRINUSE'
        ? `port ${port} on ${host} is already in use (set PORT to choose another)`
        : `cannot listen on ${host}:${port}: ${err.message}`));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((err) => (err ? reject(err) : resolve()));
    // Browsers and fetch keep connections alive; without this close() waits for them.
    server.closeAllConnections();
  });
}

function securityHeaders(issuerOrigin: string): Koa.Middleware {
  // form-action must allow the provider: "Esci" posts here and is redirected to end_session.
  const csp = `default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self' ${issuerOrigin}; `
    + "frame-ancestors 'none'; base-uri 'none'";
  return async (ctx, next) => {
    ctx.set('Content-Security-Policy', csp);
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('Cache-Control', 'no-store');
    await next();
  };
}

function errorPages(page: { serviceName: string; serviceId: string }, log: (line: string) => void): Koa.Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        ctx.status = 404;
        ctx.type = 'html';
        ctx.body = errorPage(page, { title: 'Pagina non trovata', message: 'La pagina richiesta non esiste.' });
      }
    } catch (err) {
      const status = (err as { status?: unknown }).status;
      const clientError = typeof status === 'number' && status >= 400 && status < 500;
      if (!clientError) log(`unexpected error on ${ctx.method} ${ctx.path}: ${(err as Error).stack ?? String(err)}`);
      ctx.status = clientError ? status : 500;
      ctx.type = 'html';
      ctx.body = errorPage(page, clientError
        ? { title: 'Richiesta non valida', message: 'La richiesta non è stata compresa.' }
        : { title: 'Errore del servizio', message: 'Si è verificato un errore imprevisto. Riprova più tardi.' });
    }
  };
}
