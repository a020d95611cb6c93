import type { ServiceDirectory } from '../services/consoles.js';
import Router from '@koa/router';
import type { Context, Middleware, Next } from 'koa';
import type { SecondFactor } from '../accounts/second-factor.js';
import type { AuditLog } from '../audit/audit-log.js';
import { formBody } from '../http/body.js';
import type { CsrfGuard } from '../http/csrf.js';
import { noStore } from '../http/security-headers.js';
import { viewerOf } from '../http/viewer.js';
import type { RenderPage } from '../http/views.js';
import { t } from '../i18n/index.js';
import { AREA_RISERVATA, consoleReturnPath, consoleSignInUrl } from '../services/consoles.js';
import type { SignedIn, SignedInReader } from '../provider/sso-session.js';
import type { SessionLedger } from '../provider/session-ledger.js';
import type { SignInNoticeSetting } from './sign-in-notice.js';
import type { PasswordRule } from '../accounts/password-policy.js';
import type { ChangeOwnPassword } from './own-password.js';
import type { ActivityReader } from './activity.js';
import type { EmailChange } from './email-change.js';
import type { ChangeContactData } from './contact-data.js';
import { accountPages } from './pages/account.js';
import { activityPages } from './pages/activity.js';
import { securityPages } from './pages/security.js';
import { sessionPages } from './pages/sessions.js';
import { enablementPages } from './pages/enablements.js';
import type { EnablementService } from '../enablement/service.js';

/** What the Area riservata does beyond reading the account (built in server.ts). */
export interface AreaServices {
  activity: ActivityReader;
  changeOwnPassword: ChangeOwnPassword;
  changeContactData: ChangeContactData;
  emailChange: EmailChange;
  sessionLedger: SessionLedger;
  signInNotice: SignInNoticeSetting;
  enablement: EnablementService;
}

export interface AreaRouterDeps extends AreaServices {
  secondFactor: SecondFactor;
  /** a service's name and logo by its client id */
  /** the services' names and logos, read once per page */
  serviceDirectory: ServiceDirectory;
  passwordRules: () => PasswordRule[];
  signedIn: SignedInReader;
  renderPage: RenderPage;
  issuer: string;
  /** a sensitive change needs a sign-in at most this old */
  freshSignInMinutes: number;
  audit: AuditLog;
  now?: () => Date;
}

export const HOME = AREA_RISERVATA.path;
export const SECURITY_PAGE = `${AREA_RISERVATA.path}/verifica-in-due-passaggi`;
export const PASSWORD_PAGE = `${AREA_RISERVATA.path}/password`;
export const EMAIL_PAGE = `${AREA_RISERVATA.path}/email`;
export const SESSIONS_PAGE = `${AREA_RISERVATA.path}/sessioni`;

/** The page whose form a POST came from: where a new sign-in brings the person back. */
function formPageOf(path: string): string {
  return [PASSWORD_PAGE, SECURITY_PAGE, EMAIL_PAGE, SESSIONS_PAGE].find((page) => path.startsWith(page)) ?? HOME;
}

/** What every section of the Area riservata (pages/) is given: the router and the shared steps. */
export interface AreaKit {
  router: Router;
  deps: AreaRouterDeps;
  now: () => Date;
  /** a form's body, then its CSRF token checked */
  post: readonly [Middleware, Middleware];
  from: (ctx: Context) => { ip: string; userAgent: string };
  person: (ctx: Context) => SignedIn;
  render: (ctx: Context, view: string, status: number, locals: Record<string, unknown> & { title: string }) => Promise<void>;
  requireSignedIn: Middleware;
  requireFresh: Middleware;
  toSignIn: (ctx: Context, options: { fresh?: boolean; returnTo?: string }) => void;
}

/**
 * The Area riservata: the person's own account, signed in through the provider's SSO session
 * as the provider's own client. The shell is here (sign-in, render, the age of the sign-in);
 * the sections are in pages/. A sensitive change needs a recent sign-in (two factors
 * included, when on), else the person signs in again and comes back to the page.
 */
export function createAreaRouter(deps: AreaRouterDeps, csrf: (scopeOf: (ctx: Context) => string) => CsrfGuard) {
  const router = new Router({ prefix: AREA_RISERVATA.path });
  const now = deps.now ?? (() => new Date());
  // forms are bound to the SSO session that rendered them
  const guard = csrf((ctx) => `area:${(ctx.state.person as SignedIn | undefined)?.session.uid ?? ''}`);
  const post = [formBody(), guard.verify] as const;
  router.use(noStore, guard.issue);
  const from = (ctx: Context) => ({ ip: ctx.ip, userAgent: ctx.get('user-agent') });
  const person = (ctx: Context) => ctx.state.person as SignedIn;

  function toSignIn(ctx: Context, options: { fresh?: boolean; returnTo?: string }) {
    ctx.status = 303;
    ctx.redirect(consoleSignInUrl(deps.issuer, AREA_RISERVATA, options));
  }

  async function render(ctx: Context, view: string, status: number, locals: Record<string, unknown> & { title: string }) {
    const signedIn = ctx.state.person as SignedIn | undefined;
    ctx.status = status;
    ctx.type = 'html';
    ctx.body = await deps.renderPage(`area/${view}`, {
      csrfToken: ctx.state.csrfToken as string,
      person: signedIn ? { username: signedIn.account.username } : null,
      viewer: viewerOf(signedIn),
      errors: null,
      notice: null,
      ...locals,
    });
  }

  // Back from the sign-in: to the page that sent the person, if it is one of ours.
  router.get('/accesso', async (ctx) => {
    if (typeof ctx.query.error === 'string') {
      return render(ctx, 'message', 403, { title: t('area.title'), message: t('area.sign_in_failed'), next: { href: HOME, label: t('area.sign_in_again') } });
    }
    ctx.redirect(consoleReturnPath(AREA_RISERVATA, ctx.query.state) ?? HOME);
  });

  /** Signed in through this console's client (its gates passed); else off to the sign-in and back here. */
  const requireSignedIn: Middleware = async (ctx: Context, next: Next) => {
    const signedIn = await deps.signedIn(ctx);
    if (!signedIn || !signedIn.session.clientIds.includes(AREA_RISERVATA.clientId)) {
      return toSignIn(ctx, { returnTo: ctx.method === 'GET' && ctx.path !== HOME ? ctx.path : undefined });
    }
    ctx.state.person = signedIn;
    return next();
  };

  /** A sign-in younger than the configured age; else a new one (password, and code when on), back to the page. */
  const requireFresh: Middleware = async (ctx: Context, next: Next) => {
    const age = now().getTime() / 1000 - person(ctx).session.loginTs;
    if (age > deps.freshSignInMinutes * 60) return toSignIn(ctx, { fresh: true, returnTo: ctx.method === 'GET' ? ctx.path : formPageOf(ctx.path) });
    return next();
  };


  const kit: AreaKit = { router, deps, now, post, from, person, render, requireSignedIn, requireFresh, toSignIn };
  accountPages(kit);
  securityPages(kit);
  sessionPages(kit);
  activityPages(kit);
  enablementPages(kit);
  return router;
}
