import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { Context } from 'koa';
import * as client from 'openid-client';
import { InvalidLogoutToken, verifyLogoutToken, type LogoutTokenExpectations } from './backchannel.js';
import type { DemoClient } from './clients.js';
import { CSRF_FIELD, csrfTokenMatches } from './csrf.js';
import type { Session, SessionStore, SignIn } from './sessions.js';
import { errorPage, logoutPage, signedInPage, signedOutPage, STYLESHEET, type PageContext } from './views.js';

export interface BackchannelLogoutRecord {
  receivedAt: Date;
  sid?: string | undefined;
  sub?: string | undefined;
  jti: string;
  /** How many local sessions the logout ended (0 when none matched). */
  destroyedSessions: number;
}

export interface RejectedBackchannelLogout {
  receivedAt: Date;
  /** Why the token was refused; logged and kept for tests, never sent back. */
  reason: string;
}

export interface RouteDeps {
  service: DemoClient;
  config: client.Configuration;
  redirectUri: string;
  postLogoutRedirectUri: string;
  sessions: SessionStore;
  cookie: { name: string; secure: boolean };
  logoutToken: LogoutTokenExpectations;
  backchannelLogouts: BackchannelLogoutRecord[];
  rejectedBackchannelLogouts: RejectedBackchannelLogout[];
  log: (line: string) => void;
}

/** The provider's acr for a personal code confirmed in the sign-in (src/provider/acr.ts). */
export const PERSONAL_CODE_ACR = 'urn:istruzione:iam:acr:personal-code';

/** Longest acr_values / prompt passed through to the provider; anything longer is dropped. */
const MAX_PARAM_LENGTH = 200;

export function createRoutes(deps: RouteDeps): Router {
  const { service, config, sessions } = deps;
  const issuer = config.serverMetadata().issuer;
  // SIDI's own functions that live at the provider: the security officers' console
  const links = service.id === 'sidi' ? [{ label: 'Gestione Utenze (Responsabili della sicurezza)', href: `${issuer}/sidi/gestione-utenze` }] : [];
  // Istanze OnLine: submitting an application is confirmed with the personal code (a step-up
  // sign-in; the ID token that comes back says so in its acr)
  if (service.id === 'istanze-online') links.push({ label: 'Presenta istanza (conferma con il codice personale)', href: `/login?acr_values=${encodeURIComponent(PERSONAL_CODE_ACR)}` });
  const page: PageContext = { serviceName: service.name, serviceId: service.id, links };
  const router = new Router();

  function currentSession(ctx: Context): Session | undefined {
    return sessions.get(ctx.cookies.get(deps.cookie.name));
  }

  function startSession(ctx: Context, signIn?: SignIn): Session {
    const session = sessions.create(signIn);
    ctx.cookies.set(deps.cookie.name, session.id, {
      httpOnly: true,
      sameSite: 'lax',
      secure: deps.cookie.secure,
      path: '/',
      overwrite: true,
    });
    return session;
  }

  function showError(ctx: Context, status: number, options: Parameters<typeof errorPage>[1]): void {
    ctx.status = status;
    ctx.type = 'html';
    ctx.body = errorPage(page, options);
  }

  router.get('/style.css', (ctx) => {
    ctx.type = 'text/css';
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = STYLESHEET;
  });

  router.get('/', (ctx) => {
    const session = currentSession(ctx);
    const state = single(ctx.query.state);
    if (session?.logoutState && state === session.logoutState) {
      session.logoutState = undefined;
      session.notice = `Sei uscito da ${service.name}.`;
    }
    ctx.type = 'html';
    if (session?.signIn) {
      ctx.body = signedInPage(page, session);
    } else {
      ctx.body = signedOutPage(page, session?.notice);
    }
    if (session) session.notice = undefined;
  });

  router.get('/login', async (ctx) => {
    const session = currentSession(ctx) ?? startSession(ctx);
    const codeVerifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    session.pending = { state, nonce, codeVerifier, createdAt: Date.now() };

    const parameters: Record<string, string> = {
      redirect_uri: deps.redirectUri,
      scope: service.scopes.join(' '),
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    };
    for (const name of ['acr_values', 'prompt'] as const) {
      const value = single(ctx.query[name]);
      if (value && value.length <= MAX_PARAM_LENGTH) parameters[name] = value;
    }
    ctx.redirect(client.buildAuthorizationUrl(config, parameters).href);
  });

  router.get('/callback', async (ctx) => {
    const session = currentSession(ctx);
    const pending = session?.pending;
    const error = single(ctx.query.error);
    if (!session || !pending) {
      // Without our state the response cannot be trusted, but a provider error is still worth showing.
      if (error) return showProviderError(ctx, error, single(ctx.query.error_description));
      return showError(ctx, 400, {
        title: 'Accesso non completato',
        message: 'La richiesta di accesso è scaduta o non è stata avviata da questo browser. Riprova.',
      });
    }
    session.pending = undefined;

    // The token request must carry the redirect_uri we registered, not the address we were reached at.
    const currentUrl = new URL(deps.redirectUri);
    currentUrl.search = ctx.querystring;

    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      tokens = await client.authorizationCodeGrant(config, currentUrl, {
        pkceCodeVerifier: pending.codeVerifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
    } catch (err) {
      if (err instanceof client.AuthorizationResponseError || err instanceof client.ResponseBodyError) {
        return showProviderError(ctx, err.error, err.error_description);
      }
      if (err instanceof client.ClientError) {
        deps.log(`callback rejected: ${err.message}`);
        return showError(ctx, 400, {
          title: 'Accesso non completato',
          message: 'La risposta del servizio di accesso non è valida. Riprova.',
        });
      }
      throw err;
    }

    const claims = tokens.claims()!;
    const signIn: SignIn = {
      sub: claims.sub,
      sid: typeof claims.sid === 'string' ? claims.sid : undefined,
      idToken: tokens.id_token!,
      accessToken: tokens.access_token,
      refreshToken: tokens.refresh_token,
      accessTokenExpiresAt: expiresAt(tokens.expiresIn()),
      idTokenClaims: claims,
      signedInAt: Date.now(),
    };
    await loadUserinfo(signIn);

    // A fresh session id after sign-in, so an id planted before login is worthless.
    sessions.destroy(session.id);
    startSession(ctx, signIn);
    ctx.redirect('/');
  });

  // The demo's own forms send nothing but their CSRF token.
  const sessionFormBody = bodyParser({ enableTypes: ['form'], formLimit: '4kb' });

  /** False (and a 403 page) unless the form carries the session's own token. */
  function fromOwnForm(ctx: Context, session: Session, refused: string): boolean {
    const body = (ctx.request as { body?: Record<string, unknown> }).body ?? {};
    if (csrfTokenMatches(session.csrfToken, body[CSRF_FIELD])) return true;
    deps.log(`${ctx.method} ${ctx.path} refused: missing or wrong CSRF token`);
    showError(ctx, 403, {
      title: refused,
      message: 'La richiesta non proviene da una pagina di questo servizio: il codice di sicurezza del modulo '
        + 'manca o non è valido, quindi non è stato fatto nulla. Torna alla pagina iniziale e usa di nuovo il pulsante.',
    });
    return false;
  }

  router.post('/refresh', sessionFormBody, async (ctx) => {
    const session = currentSession(ctx);
    const signIn = session?.signIn;
    if (session && !fromOwnForm(ctx, session, 'Aggiornamento non eseguito')) return;
    ctx.status = 303;
    if (!session || !signIn?.refreshToken) return ctx.redirect('/');

    let tokens: Awaited<ReturnType<typeof client.refreshTokenGrant>>;
    try {
      tokens = await client.refreshTokenGrant(config, signIn.refreshToken);
    } catch (err) {
      if (!(err instanceof client.ResponseBodyError)) throw err;
      // The provider no longer honours the grant (logout, revocation, expiry): sign out here too.
      sessions.destroy(session.id);
      startSession(ctx).notice = `Sessione non più valida (${err.error}): accedi di nuovo.`;
      return ctx.redirect('/');
    }

    const claims = tokens.claims();
    if (claims && claims.sub !== signIn.sub) {
      sessions.destroy(session.id);
      throw new Error('refreshed ID token names a different subject');
    }
    signIn.accessToken = tokens.access_token;
    signIn.refreshToken = tokens.refresh_token ?? signIn.refreshToken;
    signIn.accessTokenExpiresAt = expiresAt(tokens.expiresIn());
    if (claims && tokens.id_token) {
      signIn.idToken = tokens.id_token;
      signIn.idTokenClaims = claims;
      if (typeof claims.sid === 'string') signIn.sid = claims.sid;
    }
    signIn.refreshedAt = Date.now();
    await loadUserinfo(signIn);
    session.notice = 'Token aggiornati.';
    ctx.redirect('/');
  });

  // A GET never logs out: any page on the web could trigger it with an <img>.
  router.get('/logout', (ctx) => {
    const session = currentSession(ctx);
    if (!session?.signIn) return ctx.redirect('/');
    ctx.type = 'html';
    ctx.body = logoutPage(page, session);
  });

  router.post('/logout', sessionFormBody, (ctx) => {
    const session = currentSession(ctx);
    if (session && !fromOwnForm(ctx, session, 'Uscita non eseguita')) return;
    ctx.status = 303;
    if (!session) return ctx.redirect('/');
    sessions.destroy(session.id);

    const signIn = session.signIn;
    if (!signIn || !config.serverMetadata().end_session_endpoint) {
      startSession(ctx).notice = `Sei uscito da ${service.name}.`;
      return ctx.redirect('/');
    }
    const state = client.randomState();
    startSession(ctx).logoutState = state;
    ctx.redirect(client.buildEndSessionUrl(config, {
      id_token_hint: signIn.idToken,
      post_logout_redirect_uri: deps.postLogoutRedirectUri,
      state,
    }).href);
  });

  router.post(
    '/backchannel-logout',
    bodyParser({ enableTypes: ['form'], formLimit: '64kb' }),
    async (ctx) => {
      ctx.set('Cache-Control', 'no-store');
      const body = (ctx.request as { body?: Record<string, unknown> }).body ?? {};
      const token = body.logout_token;
      try {
        if (typeof token !== 'string' || !token) throw new InvalidLogoutToken('no logout_token in a form body');
        const claims = await verifyLogoutToken(token, deps.logoutToken);
        const destroyedSessions = sessions.destroyWhere(({ signIn }) => {
          if (!signIn) return false;
          if (claims.sid && signIn.sid === claims.sid) return true;
          // Fall back to the subject when either side lacks a session id.
          return !!claims.sub && signIn.sub === claims.sub && (!claims.sid || !signIn.sid);
        });
        deps.backchannelLogouts.push({ receivedAt: new Date(), ...claims, destroyedSessions });
        ctx.status = 200;
        ctx.body = '';
      } catch (err) {
        if (!(err instanceof InvalidLogoutToken)) throw err;
        deps.log(`back-channel logout rejected: ${err.message}`);
        deps.rejectedBackchannelLogouts.push({ receivedAt: new Date(), reason: err.message });
        ctx.status = 400;
        ctx.body = { error: 'invalid_request' };
      }
    },
  );

  async function loadUserinfo(signIn: SignIn): Promise<void> {
    try {
      signIn.userinfo = await client.fetchUserInfo(config, signIn.accessToken, signIn.sub);
      signIn.userinfoError = undefined;
    } catch (err) {
      deps.log(`userinfo failed: ${(err as Error).message}`);
      signIn.userinfoError = err instanceof client.WWWAuthenticateChallengeError || err instanceof client.ResponseBodyError
        ? 'il servizio di accesso ha rifiutato la richiesta'
        : 'il servizio di accesso non ha risposto correttamente';
    }
  }

  function showProviderError(ctx: Context, error: string, description: string | undefined): void {
    showError(ctx, 400, {
      title: 'Accesso non completato',
      message: error === 'access_denied'
        ? "L'accesso è stato negato o annullato."
        : 'Il servizio di accesso ha restituito un errore.',
      error,
      errorDescription: description,
    });
  }

  return router;
}

function single(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function expiresAt(expiresIn: number | undefined): number | undefined {
  return expiresIn === undefined ? undefined : Date.now() + expiresIn * 1000;
}
