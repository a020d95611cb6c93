import type { Context } from 'koa';
import { t } from '../../i18n/index.js';
import { formatDateTime } from '../../mail/templates.js';
import { AREA_RISERVATA } from '../../services/consoles.js';
import type { AreaKit } from '../router.js';

const PAGE = `${AREA_RISERVATA.path}/abilitazioni`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Abilitazioni: the person's enablement per service; Recupero codice personale; revoke. */
export function enablementPages(kit: AreaKit): void {
  const { router, deps, post, from, person, render, requireSignedIn } = kit;
  const serviceNames = async () => {
    const serviceOf = await deps.serviceDirectory();
    return (id: string) => serviceOf(id)?.name ?? id;
  };

  const listPage = async (ctx: Context, status: number, notice: string | null = null, error: string | null = null) => {
    const requests = await deps.enablement.liveOf(person(ctx).account.id);
    const serviceName = await serviceNames();
    return render(ctx, 'enablements', status, {
      title: t('area.enablement.title'),
      notice,
      errors: error ? { summary: [error], fields: {} } : null,
      requests: requests.map((r) => ({
        id: r.id,
        service: serviceName(r.serviceId),
        number: r.number,
        state: t(`area.enablement.state.${r.state === 'revoked' ? 'enabled' : r.state}`),
        since: formatDateTime(r.createdAt),
        canRecover: r.state === 'enabled',
      })),
    });
  };

  router.get('/abilitazioni', requireSignedIn, (ctx) => listPage(ctx, 200));

  /** The request named by the form, if it is this person's own and live. */
  const ownRequest = async (ctx: Context) => {
    const id = String((ctx.request.body as Record<string, unknown>).request ?? '');
    if (!UUID.test(id)) return undefined;
    return (await deps.enablement.liveOf(person(ctx).account.id)).find((r) => r.id === id);
  };
  const notOwn = (ctx: Context) =>
    render(ctx, 'message', 404, { title: t('area.not_found_title'), message: t('area.enablement.not_found'), next: { href: PAGE, label: t('area.back') } });

  router.post('/abilitazioni/recupero', requireSignedIn, ...post, async (ctx) => {
    const request = await ownRequest(ctx);
    if (!request) return notOwn(ctx);
    const serviceName = await serviceNames();
    const outcome = await deps.enablement.startRecovery(person(ctx).account, { id: request.serviceId, name: serviceName(request.serviceId) }, from(ctx));
    if (outcome.ok) return listPage(ctx, 200, t('area.enablement.recovery_sent', { service: serviceName(request.serviceId) }));
    if (outcome.problem === 'throttled') return listPage(ctx, 429, null, t('enablement.code.throttled', { minutes: Math.ceil(outcome.retryAfterSeconds / 60) }));
    return listPage(ctx, 409, null, t('enablement.stale'));
  });

  router.post('/abilitazioni/revoca', requireSignedIn, ...post, async (ctx) => {
    const request = await ownRequest(ctx);
    const revoked = request && (await deps.enablement.revoke(request.id, { kind: 'user', id: person(ctx).account.id }, from(ctx)));
    if (!revoked) return notOwn(ctx);
    return listPage(ctx, 200, t('area.enablement.revoked', { service: (await serviceNames())(revoked.serviceId) }));
  });
}
