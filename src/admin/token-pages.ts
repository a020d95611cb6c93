import type Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { t } from '../i18n/index.js';
import { formatDateTime } from '../mail/templates.js';
import type { CatalogueActor } from '../services/administration.js';
import { INITIAL_ACCESS_TOKEN_LIMITS, type InitialAccessTokens } from '../services/initial-access-tokens.js';

export interface TokenPagesKit {
  router: Router;
  requireAdmin: Middleware;
  post: readonly Middleware[];
  render(ctx: Context, view: string, status: number, locals: Record<string, unknown> & { title: string }): Promise<void>;
  actor(ctx: Context): CatalogueActor;
  tokens: InitialAccessTokens;
}

const PAGE = '/admin/registrazione-dinamica';
const DAY = 24 * 60 * 60;
const { maxUses, lifetime } = INITIAL_ACCESS_TOKEN_LIMITS;

interface TokenFormValues {
  label: string;
  uses: string;
  days: string;
}

const DEFAULTS: TokenFormValues = { label: '', uses: String(maxUses.default), days: String(lifetime.default / DAY) };
const FIELD_OF: Record<string, keyof TokenFormValues> = { label: 'label', maxUses: 'uses', expiresIn: 'days' };

const whole = (value: string) => (/^\d{1,6}$/.test(value.trim()) ? Number(value.trim()) : Number.NaN);

/**
 * Registrazione dinamica: the initial access tokens an administrator hands partners, who then
 * register their own services at /reg (RFC 7591). Issue (the value shown once), list, revoke
 * after a confirmation page — as `npm run admin -- iat` and /admin/api do.
 */
export function tokenPages(kit: TokenPagesKit): void {
  const { router, requireAdmin, post, render, actor, tokens } = kit;

  const listPage = async (ctx: Context, status: number, locals: { values?: TokenFormValues; errors?: Record<string, string> | null; notice?: string | null } = {}) =>
    render(ctx, 'registration-tokens', status, {
      title: t('admin.tokens.title'),
      notice: locals.notice ?? null,
      values: locals.values ?? DEFAULTS,
      limits: { maxUses: maxUses.max, days: lifetime.max / DAY },
      errors: locals.errors ? { summary: [...new Set(Object.values(locals.errors))], fields: locals.errors } : null,
      tokens: (await tokens.list()).map((token) => ({
        id: token.id,
        label: token.label,
        state: t(`admin.tokens.state.${token.state}`),
        active: token.state === 'active',
        uses: `${token.uses}/${token.maxUses}`,
        expires: formatDateTime(token.expiresAt),
      })),
    });

  router.get('/registrazione-dinamica', requireAdmin, (ctx) => listPage(ctx, 200));

  router.post('/registrazione-dinamica', requireAdmin, ...post, async (ctx) => {
    const body = ctx.request.body as Record<string, unknown>;
    const values: TokenFormValues = { label: String(body.label ?? '').slice(0, 200), uses: String(body.uses ?? '').slice(0, 8), days: String(body.days ?? '').slice(0, 8) };
    const outcome = await tokens.issue({ label: values.label, maxUses: whole(values.uses), expiresIn: whole(values.days) * DAY }, actor(ctx));
    if (!outcome.ok) {
      const errors = Object.fromEntries(outcome.problems.map((p) => {
        const field = FIELD_OF[p.field] ?? 'label';
        return [field, t(`admin.tokens.invalid.${field}`, { maxUses: maxUses.max, days: lifetime.max / DAY })];
      }));
      return listPage(ctx, 400, { values, errors });
    }
    return render(ctx, 'registration-token', 201, {
      title: t('admin.tokens.issued_title', { label: outcome.record.label }),
      token: outcome.token,
      summary: t('admin.tokens.issued_summary', { uses: outcome.record.maxUses, expires: formatDateTime(outcome.record.expiresAt) }),
      registrationEndpoint: `${ctx.origin}/reg`,
      back: PAGE,
    });
  });

  router.get('/registrazione-dinamica/revoca', requireAdmin, async (ctx) => {
    const id = typeof ctx.query.id === 'string' ? ctx.query.id.slice(0, 64) : '';
    const token = await tokens.repository.find(id);
    if (!token) return render(ctx, 'message', 404, { title: t('admin.tokens.title'), message: t('admin.tokens.not_found', { id }) });
    return render(ctx, 'confirm', 200, {
      title: t('admin.tokens.revoke_title'),
      question: t('admin.tokens.revoke_question', { label: token.label }),
      action: `${PAGE}/revoca`,
      fields: { id },
      confirm: t('admin.tokens.revoke'),
      back: PAGE,
    });
  });

  router.post('/registrazione-dinamica/revoca', requireAdmin, ...post, async (ctx) => {
    const id = String((ctx.request.body as Record<string, unknown>).id ?? '').slice(0, 64);
    const outcome = await tokens.revoke(id, actor(ctx));
    if (outcome === 'not_found') return render(ctx, 'message', 404, { title: t('admin.tokens.title'), message: t('admin.tokens.not_found', { id }) });
    return listPage(ctx, 200, { notice: t(outcome === 'revoked' ? 'admin.tokens.revoked' : 'admin.tokens.already', { id }) });
  });
}
