import Router from '@koa/router';
import type { Context } from 'koa';
import type { Config } from '../config.js';
import { t } from '../i18n/index.js';
import { INTERACTION_COOKIES, SESSION_COOKIE, TTL } from '../provider/configuration.js';
import { RETURN_COOKIE } from '../recovery/router.js';
import { REGISTRATION_COOKIE } from '../registration/router.js';
import { csrfCookieName } from './csrf.js';
import { DEVICE_COOKIE, DEVICE_COOKIE_LIFETIME_MS } from './device-cookie.js';
import type { RenderPage } from './views.js';
import { cacheFor, readViewer } from './viewer.js';
import type { SignedInReader } from '../provider/sso-session.js';

/** Where the footer leads: the pages every public-administration site carries (AgID, Designers Italia). */
export const LEGAL_PAGES = {
  accessibility: '/accessibilita',
  privacy: '/privacy',
  notes: '/note-legali',
  cookies: '/cookie',
} as const;

/**
 * The accessibility statement (AgID's model, with its feedback mechanism), the privacy
 * notice, the legal notes and the cookie page. The cookie table is built from the names and
 * lifetimes the code itself uses, so it cannot drift from what the browser receives.
 */
export function createLegalRouter(deps: { signedIn: SignedInReader; renderPage: RenderPage; config: Pick<Config, 'issuer' | 'organisation' | 'auditRetentionMonths'> }) {
  const router = new Router();
  router.use(readViewer(deps.signedIn));
  const { organisation, issuer } = deps.config;
  const vars = {
    organisation: organisation.name,
    organisationUrl: organisation.url,
    privacyEmail: organisation.privacyEmail,
    feedbackUrl: organisation.accessibilityFeedbackUrl,
    issuer,
    auditMonths: deps.config.auditRetentionMonths,
  };
  const page = (view: string, title: string, extra: Record<string, unknown> = {}) => async (ctx: Context) => {
    ctx.type = 'html';
    cacheFor(ctx, 3600);
    ctx.body = await deps.renderPage(`legal/${view}`, { title, vars, viewer: ctx.state.viewer, ...extra });
  };

  const secure = issuer.startsWith('https:');
  const cookies = [
    { name: SESSION_COOKIE, purpose: t('legal.cookies.session.purpose'), lifetime: t('legal.cookies.session.lifetime', { hours: TTL.Session / 3600 }) },
    { name: INTERACTION_COOKIES.interaction, purpose: t('legal.cookies.interaction.purpose'), lifetime: t('legal.cookies.interaction.lifetime', { minutes: TTL.Interaction / 60 }) },
    { name: INTERACTION_COOKIES.resume, purpose: t('legal.cookies.resume.purpose'), lifetime: t('legal.cookies.interaction.lifetime', { minutes: TTL.Interaction / 60 }) },
    { name: csrfCookieName(secure), purpose: t('legal.cookies.csrf.purpose'), lifetime: t('legal.cookies.csrf.lifetime') },
    { name: DEVICE_COOKIE, purpose: t('legal.cookies.device.purpose'), lifetime: t('legal.cookies.device.lifetime', { days: DEVICE_COOKIE_LIFETIME_MS / 86_400_000 }) },
    { name: REGISTRATION_COOKIE, purpose: t('legal.cookies.registration.purpose'), lifetime: t('legal.cookies.registration.lifetime') },
    { name: RETURN_COOKIE, purpose: t('legal.cookies.recovery.purpose'), lifetime: t('legal.cookies.recovery.lifetime') },
  ];

  router.get(LEGAL_PAGES.accessibility, page('accessibility', t('legal.accessibility.title')));
  router.get(LEGAL_PAGES.privacy, page('privacy', t('legal.privacy.title')));
  router.get(LEGAL_PAGES.notes, page('notes', t('legal.notes.title')));
  router.get(LEGAL_PAGES.cookies, page('cookies', t('legal.cookies.title'), { cookies }));
  return router;
}
