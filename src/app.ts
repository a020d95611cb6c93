import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import Koa from 'koa';
import mount from 'koa-mount';
import serve from 'koa-static';
import Router from '@koa/router';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { AccountRepository } from './accounts/repository.js';
import type { PasswordAuthenticator } from './accounts/authentication.js';
import type { PasswordService } from './accounts/passwords.js';
import type { AuditLog } from './audit/audit-log.js';
import type { Config } from './config.js';
import { shedNewWork, type PasswordWorkQueue } from './http/admission.js';
import { createCsrf } from './http/csrf.js';
import { deviceCookie } from './http/device-cookie.js';
import { routeOf, type Metrics } from './http/metrics.js';
import { OUTAGE_RETRY_AFTER_SECONDS } from './http/outage.js';
import { pinRequestOrigin } from './http/request-origin.js';
import { errorPages } from './http/error-pages.js';
import { createLegalRouter } from './http/legal-pages.js';
import { securityHeaders } from './http/security-headers.js';
import type { RenderPage } from './http/views.js';
import { t } from './i18n/index.js';
import { createInteractionRouter } from './interactions/router.js';
import type { SecondFactor } from './accounts/second-factor.js';
import type { Logger } from './logger.js';
import { type ClientProperties, formActionOrigins } from './services/catalogue.js';
import type { ServiceAdministration } from './services/administration.js';
import { serveLogo } from './services/logo.js';
import { SESSION_COOKIE } from './provider/configuration.js';
import { createAdminRouter, type AdminRouterDeps } from './admin/router.js';
import { createAdminApiRouter, type AdminApiDeps } from './admin/api/router.js';
import { createAreaRouter, type AreaServices } from './area/router.js';
import type { EnablementService } from './enablement/service.js';
import type { ServiceDirectory } from './services/consoles.js';
import { readViewer } from './http/viewer.js';
import { createOfficerRouter } from './officer/router.js';
import type { OfficerConsole } from './officer/service.js';
import type { SignedInReader } from './provider/sso-session.js';
import { createRecoveryRouter } from './recovery/router.js';
import type { RecoveryService } from './recovery/service.js';
import { createRegistrationRouter, type RegistrationService } from './registration/index.js';

export interface AppDeps {
  config: Pick<Config, 'rootDir' | 'proxy' | 'issuer' | 'env' | 'metricsToken' | 'freshSignInMinutes' | 'organisation' | 'auditRetentionMonths'>;
  provider: Provider;
  /** the catalogue of client services (the home page lists them; /admin changes them) */
  serviceAdministration: ServiceAdministration;
  /** the services' names and logos, read once per page */
  serviceDirectory: ServiceDirectory;
  accounts: AccountRepository;
  authenticator: PasswordAuthenticator;
  passwords: PasswordService;
  secondFactor: SecondFactor;
  /** service enablement (abilitazione), the enablement gate's steps */
  enablement: EnablementService;
  /** Password dimenticata? / Username dimenticato? */
  recovery: RecoveryService;
  /** the administration: role, audit viewer, staff import */
  admin: Pick<AdminRouterDeps, 'administrators' | 'auditViewer' | 'staffImport' | 'enablements'>;
  /** what only the admin JSON API (and the CLI) reach: initial access tokens, keys */
  adminApi: Pick<AdminApiDeps, 'initialAccessTokens' | 'keys' | 'rules'>;
  /** the Area riservata's own services: activity, password, contact data, e-mail, sessions, services */
  area: AreaServices;
  /** SIDI Gestione Utenze */
  officerConsole: OfficerConsole;
  /** who is signed in, from the provider's SSO session (our consoles) */
  signedIn: SignedInReader;
  /** Registrati (SELF_REGISTRATION) */
  registration?: { service: RegistrationService; enabled: boolean };
  renderPage: RenderPage;
  logger: Logger;
  audit: AuditLog;
  csrfSecret: string;
  /** the argon2id queue: new sign-ins are admitted through it */
  passwordWork: PasswordWorkQueue;
  metrics: Metrics;
  /** bounds the sign-ins one address may start (http/sign-in-starts.ts) */
  signInStarts: Koa.Middleware;
  /** reports whether the stores answer, for /health */
  health: () => Promise<Record<string, boolean>>;
}

export function createApp(deps: AppDeps): Koa {
  const app = new Koa();
  // pinRequestOrigin rewrites the forwarding headers before anything reads them
  app.proxy = true;
  // the provider is mounted, so it reads and signs cookies through this app's context and keys
  app.keys = deps.provider.keys;
  const secure = deps.config.issuer.startsWith('https:');
  const csrf = createCsrf({ secret: deps.csrfSecret, secure });

  app.use(requestLog(deps.logger));
  app.use(deps.metrics.timing());
  app.use(securityHeaders({ hsts: secure }));
  app.use(errorPages({ renderPage: deps.renderPage, logger: deps.logger }));
  app.use(pinRequestOrigin({ issuer: deps.config.issuer, proxy: deps.config.proxy, logger: deps.logger, audit: deps.audit }));
  // in production only with a token: the figures are for the operator
  if (deps.config.metricsToken || deps.config.env !== 'production') app.use(deps.metrics.endpoint(deps.config.metricsToken));

  app.use(shedNewWork(deps.passwordWork, [
    // a browser with an SSO session signs in without a password
    { method: 'GET', path: /^\/auth$/, unlessCookie: SESSION_COOKIE },
    { method: 'POST', path: /^\/registrazione\/password$/ },
    { method: 'POST', path: /^\/recupero\/password\/nuova$/ },
  ], (minutes) => deps.renderPage('errors/error', { title: t('error.title'), message: t('overload.message', { minutes }), reference: null })));

  const assets = { maxage: 24 * 60 * 60 * 1000, gzip: false, brotli: false };
  app.use(mount('/assets/bootstrap-italia', serve(join(deps.config.rootDir, 'node_modules/bootstrap-italia/dist'), assets)));
  app.use(mount('/assets', serve(join(deps.config.rootDir, 'public'), assets)));

  const site = new Router();
  site.get('/', readViewer(deps.signedIn), async (ctx) => {
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await deps.renderPage('home', {
      title: t('app.name'),
      viewer: ctx.state.viewer,
      services: [...(await deps.serviceAdministration.repository.labels()).values()]
        .filter((s) => s.enabled)
        .map((s) => ({ name: s.name, description: s.description, logo: s.logo })),
    });
  });
  site.get('/servizi/:id/logo', serveLogo(deps.serviceAdministration.repository));
  // liveness: the process answers (a restart would not help anything else)
  site.get('/healthz', (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: 'ok' };
  });
  // readiness: the stores answer; the admission queue is reported, never a reason to be taken
  // out of the pool (every instance would be at once under a stampede)
  site.get(['/readyz', '/health'], async (ctx) => {
    const checks = await deps.health();
    const ok = Object.values(checks).every(Boolean);
    ctx.status = ok ? 200 : 503;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: ok ? 'ok' : 'unavailable', checks, admission: deps.passwordWork.stats() };
  });
  app.use(site.routes());
  app.use(createLegalRouter({ signedIn: deps.signedIn, renderPage: deps.renderPage, config: deps.config }).routes());

  // before the interaction router: its last step is GET /interaction/<uid>/registrazione
  const registration = createRegistrationRouter(
    {
      registration: deps.registration?.service as RegistrationService,
      enabled: !!deps.registration?.enabled,
      provider: deps.provider,
      renderPage: deps.renderPage,
      passwordRules: () => deps.passwords.rules(),
      secure,
    },
    // the first form is shown at /registrazione and posted to /registrazione/dati
    csrf((ctx) => `registration:${ctx.path === '/registrazione' ? '/registrazione/dati' : ctx.path}`),
  );
  app.use(registration.routes());
  app.use(registration.allowedMethods());

  const interactions = createInteractionRouter(
    { provider: deps.provider, accounts: deps.accounts, authenticator: deps.authenticator, passwords: deps.passwords, secondFactor: deps.secondFactor, enablement: deps.enablement, renderPage: deps.renderPage, passwordWork: deps.passwordWork, metrics: deps.metrics, deviceCookie: deviceCookie(secure) },
    csrf((ctx) => `interaction:${ctx.params.uid}`),
  );
  app.use(interactions.routes());
  app.use(interactions.allowedMethods());

  const recovery = createRecoveryRouter(
    { recovery: deps.recovery, provider: deps.provider, renderPage: deps.renderPage, passwordRules: () => deps.passwords.rules(), secure },
    csrf((ctx) => `recovery:${ctx.path}`),
  );
  app.use(recovery.routes());
  app.use(recovery.allowedMethods());

  const officer = createOfficerRouter({ console: deps.officerConsole, enablement: deps.enablement, serviceDirectory: deps.serviceDirectory, signedIn: deps.signedIn, renderPage: deps.renderPage, issuer: deps.config.issuer }, csrf);
  app.use(officer.routes());
  app.use(officer.allowedMethods());

  const area = createAreaRouter({ ...deps.area, audit: deps.audit, secondFactor: deps.secondFactor, serviceDirectory: deps.serviceDirectory, passwordRules: () => deps.passwords.rules(), signedIn: deps.signedIn, renderPage: deps.renderPage, issuer: deps.config.issuer, freshSignInMinutes: deps.config.freshSignInMinutes }, csrf);
  app.use(area.routes());
  app.use(area.allowedMethods());

  // before the console's router: /admin/api answers JSON problems, never the console's pages
  const adminApi = createAdminApiRouter({
    ...deps.adminApi,
    auditViewer: deps.admin.auditViewer,
    staffImport: deps.admin.staffImport,
    administrators: deps.admin.administrators,
    enablements: deps.admin.enablements,
    services: deps.serviceAdministration,
    catalogue: deps.serviceAdministration.repository,
    provider: deps.provider,
    signedIn: deps.signedIn,
    audit: deps.audit,
    issuer: deps.config.issuer,
    logger: deps.logger,
  });
  app.use(adminApi.routes());
  const admin = createAdminRouter({ ...deps.admin, initialAccessTokens: deps.adminApi.initialAccessTokens, services: deps.serviceAdministration, serviceDirectory: deps.serviceDirectory, audit: deps.audit, signedIn: deps.signedIn, renderPage: deps.renderPage, issuer: deps.config.issuer }, csrf);
  app.use(admin.routes());
  app.use(admin.allowedMethods());

  app.use(formTargetsOfClientInPlay);
  app.use(outageAnswers);
  app.use(deps.signInStarts);
  app.use(mount(deps.provider));
  return app;
}

/** A service's name by client id: the catalogue's and the provider's own consoles'. */

/** The provider answers a store outage with a JSON server_error 500: it is a 503 the client may retry. */
const outageAnswers: Koa.Middleware = async (ctx, next) => {
  await next();
  if (!ctx.state.outage || ctx.status !== 500) return;
  ctx.status = 503;
  ctx.state.unavailable ??= 'outage';
  ctx.set('Retry-After', String(OUTAGE_RETRY_AFTER_SECONDS));
  ctx.body = { error: 'temporarily_unavailable', error_description: 'a store of the provider is unreachable; retry shortly' };
};

/** Pages the provider renders itself (logout, form_post) may lead to the service in play. */
const formTargetsOfClientInPlay: Koa.Middleware = async (ctx, next) => {
  await next();
  const client = (ctx as Partial<KoaContextWithOIDC>).oidc?.client;
  // only pages have forms; token and discovery answers are JSON
  if (client && ctx.response.is('html')) ctx.state.formActionOrigins = formActionOrigins(client as ClientProperties);
};

function requestLog(logger: Logger): Koa.Middleware {
  const enabled = logger.isLevelEnabled('debug');
  return async (ctx, next) => {
    const started = performance.now();
    ctx.state.requestId = randomUUID();
    ctx.set('X-Request-Id', ctx.state.requestId as string);
    if (!enabled) return next();
    try {
      await next();
    } finally {
      // the route, not the path: paths carry interaction ids, query strings codes and tokens
      logger.debug(
        { requestId: ctx.state.requestId, method: ctx.method, route: routeOf(ctx), status: ctx.status, ms: Math.round(performance.now() - started) },
        'request',
      );
    }
  };
}
