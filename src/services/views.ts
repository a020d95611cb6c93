import { z } from 'zod';
import type { InitialAccessTokenRecord } from './initial-access-token-repository.js';
import { serviceSettingsSchema, type ServiceRules } from './catalogue.js';
import { lifetimesOf } from './lifetimes.js';
import type { ServiceRecord } from './repository.js';

/**
 * What the CLI (--json) and the admin API show of a service and of an initial access token:
 * never a secret, a token or a digest. The schemas describe the API's answers (admin/api/).
 */
export const serviceViewSchema = (rules: ServiceRules) =>
  z
    .object({
      id: z.string(),
      name: z.string(),
      origin: z.enum(['file', 'console', 'cli', 'api', 'registration']),
      enabled: z.boolean(),
      confidential: z.boolean().describe('whether it has a client secret'),
      previousSecretValidUntil: z.string().nullable().describe('until when the secret before the last rotation is still accepted'),
      settings: serviceSettingsSchema(rules),
      tokenLifetimes: z.object({ accessToken: z.number(), idToken: z.number(), refreshTokenIdle: z.number(), refreshTokenAbsolute: z.number() }).describe('seconds, the profile’s where the service sets none'),
      createdAt: z.string(),
      updatedAt: z.string(),
    })
    .meta({ id: 'Service' });

export type ServiceView = z.output<ReturnType<typeof serviceViewSchema>>;

export function serviceView(service: ServiceRecord): ServiceView {
  return {
    id: service.id,
    name: service.name,
    origin: service.origin,
    enabled: service.disabledAt === null,
    confidential: service.secretDigest !== null,
    previousSecretValidUntil: service.previousSecret?.validUntil.toISOString() ?? null,
    settings: service.settings,
    tokenLifetimes: lifetimesOf(service.settings),
    createdAt: service.createdAt.toISOString(),
    updatedAt: service.updatedAt.toISOString(),
  };
}

export const tokenViewSchema = z
  .object({
    id: z.string(),
    label: z.string(),
    state: z.enum(['active', 'spent', 'expired', 'revoked']),
    uses: z.number().int(),
    maxUses: z.number().int(),
    expiresAt: z.string(),
    revokedAt: z.string().nullable(),
    createdBy: z.string().nullable().describe('the administrator’s account id, null from the CLI or an API client'),
    createdAt: z.string(),
  })
  .meta({ id: 'InitialAccessToken' });

export function tokenView(t: InitialAccessTokenRecord): z.output<typeof tokenViewSchema> {
  return {
    id: t.id,
    label: t.label,
    state: t.state,
    uses: t.uses,
    maxUses: t.maxUses,
    expiresAt: t.expiresAt.toISOString(),
    revokedAt: t.revokedAt?.toISOString() ?? null,
    createdBy: t.createdBy,
    createdAt: t.createdAt.toISOString(),
  };
}
