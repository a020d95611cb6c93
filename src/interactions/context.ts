import type { EnablementService } from '../enablement/service.js';
import type { PasswordWorkQueue } from '../http/admission.js';
import type { DeviceCookie } from '../http/device-cookie.js';
import type { Metrics } from '../http/metrics.js';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { errors, type InteractionResults } from 'oidc-provider';
import type { AccountRepository } from '../accounts/repository.js';
import type { PasswordAuthenticator } from '../accounts/authentication.js';
import type { PasswordService } from '../accounts/passwords.js';
import type { SecondFactor } from '../accounts/second-factor.js';
import type { RenderPage, PageLocals } from '../http/views.js';
import { serviceFromClient, type Service } from '../services/catalogue.js';

export interface InteractionDeps {
  provider: Provider;
  accounts: AccountRepository;
  authenticator: PasswordAuthenticator;
  passwords: PasswordService;
  secondFactor: SecondFactor;
  renderPage: RenderPage;
  passwordWork: PasswordWorkQueue;
  metrics: Pick<Metrics, 'signIn'>;
  deviceCookie: DeviceCookie;
  enablement: EnablementService;
}

export type Interaction = Awaited<ReturnType<Provider['interactionDetails']>>;

export interface InteractionContext {
  interaction: Interaction;
  service: Service;
}

/** The interaction behind the cookie, which must be the one named in the URL. */
export async function loadInteraction(deps: InteractionDeps, ctx: Context): Promise<InteractionContext> {
  const interaction = await deps.provider.interactionDetails(ctx.req, ctx.res);
  if (interaction.uid !== ctx.params.uid) throw new errors.SessionNotFound('interaction does not match the cookie');
  const client = await deps.provider.Client.find(String(interaction.params.client_id));
  if (!client) throw new errors.SessionNotFound('client no longer registered');
  const service = serviceFromClient(client);
  ctx.state.formActionOrigins = service.formActionOrigins;
  return { interaction, service };
}

export async function finish(deps: InteractionDeps, ctx: Context, result: InteractionResults): Promise<void> {
  const target = await deps.provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
  ctx.status = 303;
  ctx.redirect(target);
}

export async function render(deps: InteractionDeps, ctx: Context, view: string, status: number, locals: PageLocals): Promise<void> {
  ctx.status = status;
  ctx.type = 'html';
  ctx.body = await deps.renderPage(view, { csrfToken: ctx.state.csrfToken as string, ...locals });
}

export function banner(service: Service): { name: string; logo?: string } {
  return { name: service.name, logo: service.logo };
}
