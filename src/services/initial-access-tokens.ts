import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { AuditLog } from '../audit/audit-log.js';
import type { Db } from '../db/index.js';
import { problemsOf, type FieldProblem } from './catalogue.js';
import { actorDetails, type CatalogueActor } from './administration.js';
import { createInitialAccessTokenRepository, type InitialAccessTokenRecord } from './initial-access-token-repository.js';
import { secretDigest } from './secrets.js';

const DAY = 24 * 60 * 60;

export const INITIAL_ACCESS_TOKEN_LIMITS = {
  maxUses: { min: 1, max: 1000, default: 1 },
  /** seconds */
  lifetime: { min: 5 * 60, max: 90 * DAY, default: 7 * DAY },
} as const;

const { maxUses, lifetime } = INITIAL_ACCESS_TOKEN_LIMITS;

/** What an administrator says when handing a partner a token (console, CLI and API alike). */
export const initialAccessTokenRequestSchema = z
  .object({
    label: z.string().trim().min(1, 'is required').max(120, 'must be at most 120 characters')
      .describe('who the token is for, e.g. the partner and its service'),
    maxUses: z.number().int().min(maxUses.min).max(maxUses.max).default(maxUses.default)
      .describe('how many services it may register (1: single-use)'),
    expiresIn: z.number().int().min(lifetime.min).max(lifetime.max).default(lifetime.default)
      .describe('seconds until it expires'),
  })
  .strict();

export type InitialAccessTokenRequest = z.input<typeof initialAccessTokenRequestSchema>;

/** The public name of a token, for lists and revocation: not the token. */
const newTokenId = () => `iat-${randomBytes(8).toString('hex')}`;

/**
 * Initial access tokens (RFC 7591 §3): an administrator hands one to a partner, who registers
 * its own service with it. The value is shown once; the database keeps its digest, the uses
 * left, the expiry and whether it was revoked.
 */
export function createInitialAccessTokens(deps: { db: Db; audit: AuditLog }) {
  const repository = createInitialAccessTokenRepository(deps.db);
  return {
    repository,

    async issue(input: unknown, actor: CatalogueActor): Promise<{ ok: true; token: string; record: InitialAccessTokenRecord } | { ok: false; problems: FieldProblem[] }> {
      const parsed = initialAccessTokenRequestSchema.safeParse(input);
      if (!parsed.success) return { ok: false, problems: problemsOf(parsed.error) };
      const token = randomBytes(32).toString('base64url');
      return deps.db.transaction().execute(async (trx) => {
        const record = await repository.insert(
          { id: newTokenId(), digest: secretDigest(token), label: parsed.data.label, maxUses: parsed.data.maxUses, expiresAt: new Date(Date.now() + parsed.data.expiresIn * 1000), createdBy: actor.id ?? null },
          trx,
        );
        await deps.audit.record(
          { actorKind: actor.kind, actorId: actor.id ?? null, action: 'iat.issued', outcome: 'success', ip: actor.ip, userAgent: actor.userAgent, details: { ...actorDetails(actor), id: record.id, label: record.label, maxUses: record.maxUses, expiresAt: record.expiresAt.toISOString() } },
          trx,
        );
        return { ok: true as const, token, record };
      });
    },

    list: () => repository.list(),

    async revoke(id: string, actor: CatalogueActor): Promise<'revoked' | 'already' | 'not_found'> {
      return deps.db.transaction().execute(async (trx) => {
        if (!(await repository.revoke(id, trx))) return (await repository.find(id, trx)) ? 'already' : 'not_found';
        await deps.audit.record(
          { actorKind: actor.kind, actorId: actor.id ?? null, action: 'iat.revoked', outcome: 'success', ip: actor.ip, userAgent: actor.userAgent, details: { ...actorDetails(actor), id } },
          trx,
        );
        return 'revoked';
      });
    },
  };
}

export type InitialAccessTokens = ReturnType<typeof createInitialAccessTokens>;
