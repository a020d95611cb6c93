import type { Context } from 'koa';
import { t, isMessageKey } from '../../i18n/index.js';
import { formatDateTime } from '../../mail/templates.js';
import type { ServiceLookup } from '../../services/consoles.js';
import { HOME, SESSIONS_PAGE, type AreaKit } from '../router.js';

/** Sessioni attive (end one, or all the others) and Servizi (revoke one). */
export function sessionPages(kit: AreaKit): void {
  const { router, deps, now, post, from, person, render, requireSignedIn, requireFresh, toSignIn } = kit;

  const notFound = (ctx: Context, message: string, back: string) =>
    render(ctx, 'message', 404, { title: t('area.not_found_title'), message, next: { href: back, label: t('area.back') } });
  const nameIn = (serviceOf: ServiceLookup) => (clientId: string) => serviceOf(clientId)?.name ?? clientId;

  const sessionsPage = async (ctx: Context, status: number, notice: string | null = null) => {
    const sessions = await deps.sessionLedger.sessions(person(ctx).account.id, person(ctx).session.id);
    const serviceName = nameIn(await deps.serviceDirectory());
    return render(ctx, 'sessions', status, {
      title: t('area.sessions.title'),
      notice,
      sessions: sessions.map((s) => ({
        handle: s.handle,
        current: s.current,
        browser: s.browser,
        device: t(`area.device.${s.device}`),
        ip: s.ip,
        started: formatDateTime(s.startedAt),
        lastSeen: formatDateTime(s.current ? now() : s.lastSeen ?? s.startedAt),
        services: s.clientIds.map(serviceName).join(', '),
      })),
    });
  };

  router.get('/sessioni', requireSignedIn, (ctx) => sessionsPage(ctx, 200));

  router.post('/sessioni/termina', requireSignedIn, requireFresh, ...post, async (ctx) => {
    const handle = String((ctx.request.body as Record<string, unknown>).session ?? '').slice(0, 64);
    // this browser's own session is ended by signing out, not from the list
    const ended = handle && handle !== person(ctx).session.uid ? await deps.sessionLedger.end(person(ctx).account.id, { handle }) : undefined;
    if (!ended) return notFound(ctx, t('area.sessions.not_found'), SESSIONS_PAGE);
    await auditEnded(ctx, 'account.session_ended', { sessions: ended.sessions, grants: ended.grants });
    return sessionsPage(ctx, 200, t('area.sessions.ended'));
  });

  router.post('/sessioni/termina-altre', requireSignedIn, requireFresh, ...post, async (ctx) => {
    const ended = (await deps.sessionLedger.end(person(ctx).account.id, { allBut: person(ctx).session.id }))!;
    await auditEnded(ctx, 'account.other_sessions_ended', { reason: 'requested', sessions: ended.sessions, grants: ended.grants });
    return sessionsPage(ctx, 200, t('area.sessions.ended_others', { sessions: ended.sessions }));
  });

  const scopeLabel = (scope: string) => {
    const key = `area.scope.${scope}`;
    return isMessageKey(key) ? t(key) : scope;
  };

  const servicesPage = async (ctx: Context, status: number, notice: string | null = null) => {
    const services = await deps.sessionLedger.services(person(ctx).account.id);
    const serviceOf = await deps.serviceDirectory();
    const serviceName = nameIn(serviceOf);
    return render(ctx, 'services', status, {
      title: t('area.services.title'),
      notice,
      services: services.map((s) => ({
        clientId: s.clientId,
        name: serviceName(s.clientId),
        logo: serviceOf(s.clientId)?.logo,
        firstUse: formatDateTime(s.firstUse),
        lastUse: formatDateTime(s.lastUse),
        scopes: s.scopes.map(scopeLabel).join(', '),
      })),
    });
  };

  router.get('/servizi', requireSignedIn, (ctx) => servicesPage(ctx, 200));

  router.post('/servizi/revoca', requireSignedIn, ...post, async (ctx) => {
    const clientId = String((ctx.request.body as Record<string, unknown>).service ?? '').slice(0, 200);
    const revoked = clientId ? await deps.sessionLedger.revokeService(person(ctx).account.id, clientId) : undefined;
    if (!revoked) return notFound(ctx, t('area.services.not_found'), `${HOME}/servizi`);
    await deps.audit.record({
      actorKind: 'user', actorId: person(ctx).account.id, subjectId: person(ctx).account.id, action: 'account.service_revoked', outcome: 'success',
      ip: ctx.ip, userAgent: ctx.get('user-agent'), clientId, details: { grants: revoked.grants, notified: revoked.notified },
    });
    return servicesPage(ctx, 200, t('area.services.revoked', { name: nameIn(await deps.serviceDirectory())(clientId) }));
  });

  async function auditEnded(ctx: Context, action: string, details: Record<string, unknown>) {
    await deps.audit.record({ actorKind: 'user', actorId: person(ctx).account.id, subjectId: person(ctx).account.id, action, outcome: 'success', ip: ctx.ip, userAgent: ctx.get('user-agent'), details });
  }
}
