import type { Context } from 'koa';
import { t } from '../../i18n/index.js';
import { formatDateTime } from '../../mail/templates.js';
import type { AreaKit } from '../router.js';

/** Accessi recenti, and the e-mail at every sign-in switched on or off. */
export function activityPages(kit: AreaKit): void {
  const { router, deps, now, post, from, person, render, requireSignedIn, requireFresh, toSignIn } = kit;

  const activityPage = async (ctx: Context, notice: string | null = null) => {
    const records = await deps.activity.recentSignIns(person(ctx).account.id);
    const serviceOf = await deps.serviceDirectory();
    return render(ctx, 'activity', 200, {
      title: t('area.activity.title'),
      notice,
      signInNotice: person(ctx).account.signInNotice,
      records: records.map((r) => ({
        when: formatDateTime(r.at),
        service: (r.clientId && serviceOf(r.clientId)?.name) ?? t('area.activity.unknown_service'),
        ip: r.ip ?? '',
        ok: r.outcome === 'success',
        outcome: t(r.outcome === 'success' ? 'area.activity.success' : r.reason === 'wrong_password' ? 'area.activity.wrong_password' : 'area.activity.refused'),
      })),
    });
  };

  router.get('/attivita', requireSignedIn, (ctx) => activityPage(ctx));

  router.post('/attivita/avviso', requireSignedIn, ...post, async (ctx) => {
    const on = (ctx.request.body as Record<string, unknown>).avviso === 'si';
    await deps.signInNotice(person(ctx).account.id, on, from(ctx));
    ctx.state.person = { ...person(ctx), account: { ...person(ctx).account, signInNotice: on } };
    return activityPage(ctx, t(on ? 'area.notice.turned_on' : 'area.notice.turned_off'));
  });
}
