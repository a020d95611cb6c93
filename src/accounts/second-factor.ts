import { createHash, randomInt } from 'node:crypto';
import { sql } from 'kysely';
import { generateSecret, generateURI, verify as verifyTotp } from 'otplib';
import QRCode from 'qrcode';
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterRes } from 'rate-limiter-flexible';

import type { RedisClient } from '../adapters/redis-client.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Db } from '../db/index.js';
import { openSecret, sealSecret, type SealedSecret } from '../provider/key-encryption.js';
import type { Account } from './account.js';

export const RECOVERY_CODE_COUNT = 10;
/** Wrong codes an account may send in the window before the step refuses for a while. */
export const SECOND_FACTOR_FAILURES = 5;
const FAILURE_WINDOW_SECONDS = 15 * 60;
/** A code of the step before or after the current one is accepted (a clock a little off, a slow typist). */
const CLOCK_TOLERANCE_SECONDS = 30;
/** An enrolment not confirmed within this time starts again with a new secret. */
const ENROLMENT_LIFE_MS = 15 * 60 * 1000;
const ISSUER_LABEL = 'IAM Istruzione';

export interface SecondFactorStatus {
  enrolled: boolean;
  officer: boolean;
}

export interface Enrolment {
  secret: string;
  /** otpauth:// URI, as the QR code carries it */
  uri: string;
  /** the QR code as an SVG element, drawn here */
  qrSvg: string;
  recoveryCodes: string[];
}

export type SecondFactorCheck =
  | { ok: true; method: 'totp' | 'recovery_code' }
  | { ok: false; reason: 'wrong_code' | 'not_enrolled' }
  | { ok: false; reason: 'throttled'; retryAfterSeconds: number };

interface PendingSecret {
  secret: string;
  /** shown with the secret while enrolling; only their hashes stay once it is confirmed */
  recoveryCodes?: string[];
}

const hashCode = (code: string) => createHash('sha256').update(code).digest('hex');
/** What a person types for a recovery code, reduced to its letters and digits, lower case. */
const normalizeRecoveryCode = (typed: string) => typed.toLowerCase().replace(/[^a-z0-9]/g, '');
/** Letters and digits no one confuses when copying by hand (no i, l, o, 0, 1). */
const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
/** Ten characters (about 50 bits), shown as two groups of five. */
const newRecoveryCode = () => {
  const raw = Array.from({ length: 10 }, () => RECOVERY_ALPHABET[randomInt(RECOVERY_ALPHABET.length)]).join('');
  return `${raw.slice(0, 5)}-${raw.slice(5)}`;
};

/**
 * The second factor (DOMAIN.md §5 gate 3, issue 14): TOTP with an authenticator app, and ten
 * single-use recovery codes. A code is accepted once (its time step must be later than the
 * last one accepted, checked in the same UPDATE that records it), and wrong codes are
 * counted per account before any check, so a burst of parallel guesses cannot outrun the
 * limit.
 */
export function createSecondFactor(deps: { db: Db; audit: AuditLog; kek: Buffer; redis?: RedisClient; keyPrefix?: string; now?: () => Date }) {
  const now = deps.now ?? (() => new Date());
  const limiterOptions = { keyPrefix: `${deps.keyPrefix ?? 'iam:second-factor:'}failures`, points: SECOND_FACTOR_FAILURES, duration: FAILURE_WINDOW_SECONDS };
  const failures = deps.redis ? new RateLimiterRedis({ storeClient: deps.redis, ...limiterOptions }) : new RateLimiterMemory(limiterOptions);
  const kid = (accountId: string) => `second-factor:${accountId}`;
  const seal = (accountId: string, pending: PendingSecret) => JSON.stringify(sealSecret(deps.kek, kid(accountId), pending));
  const open = (accountId: string, sealed: Record<string, unknown>) => openSecret(deps.kek, kid(accountId), sealed as unknown as SealedSecret) as PendingSecret;

  return {
    /** Whether the account has a confirmed second factor, and whether it holds an officer profile anywhere. */
    async status(accountId: string): Promise<SecondFactorStatus> {
      const row = await deps.db
        .selectNoFrom((eb) => [
          eb.exists(eb.selectFrom('second_factors').select('account_id').where('account_id', '=', accountId).where('confirmed_at', 'is not', null)).as('enrolled'),
          eb.exists(eb.selectFrom('school_assignments').select('account_id').where('account_id', '=', accountId).where('security_officer', '=', true)).as('officer'),
        ])
        .executeTakeFirstOrThrow();
      return { enrolled: Boolean(row.enrolled), officer: Boolean(row.officer) };
    },

    /**
     * The enrolment under way, or a new one: a secret and ten recovery codes, kept sealed until
     * the first code confirms them (a page shown again shows the same ones).
     */
    async enrolment(account: Pick<Account, 'id' | 'username'>): Promise<Enrolment> {
      const current = await deps.db.selectFrom('second_factors').select(['secret', 'confirmed_at', 'created_at']).where('account_id', '=', account.id).executeTakeFirst();
      let pending: PendingSecret;
      if (current && !current.confirmed_at && now().getTime() - current.created_at.getTime() < ENROLMENT_LIFE_MS) {
        pending = open(account.id, current.secret);
      } else {
        pending = { secret: generateSecret(), recoveryCodes: Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode) };
        // a confirmed factor is never replaced from here (removing it is a step of its own)
        await deps.db
          .insertInto('second_factors')
          .values({ account_id: account.id, secret: seal(account.id, pending), confirmed_at: null, last_step: null, created_at: now() })
          .onConflict((oc) => oc.column('account_id').doUpdateSet({ secret: seal(account.id, pending), last_step: null, created_at: now() }).where('second_factors.confirmed_at', 'is', null))
          .execute();
      }
      const uri = generateURI({ issuer: ISSUER_LABEL, label: account.username, secret: pending.secret });
      return { secret: pending.secret, uri, qrSvg: await QRCode.toString(uri, { type: 'svg', margin: 1, errorCorrectionLevel: 'M' }), recoveryCodes: pending.recoveryCodes ?? [] };
    },

    /** The first code from the app confirms the enrolment; the recovery codes shown with it become valid. */
    async confirm(accountId: string, typed: string, from: { ip: string; userAgent?: string; clientId?: string }): Promise<SecondFactorCheck> {
      const taken = await takeAttempt(accountId);
      if (taken) return taken;
      const row = await deps.db.selectFrom('second_factors').select(['secret', 'confirmed_at']).where('account_id', '=', accountId).executeTakeFirst();
      if (!row || row.confirmed_at) return { ok: false, reason: 'not_enrolled' };
      const pending = open(accountId, row.secret);
      const step = await matchingStep(pending.secret, typed);
      if (step === null) return failed(accountId, 'second_factor.enrolment', from);
      const confirmed = await deps.db.transaction().execute(async (trx) => {
        const done = await trx.updateTable('second_factors')
          .set({ confirmed_at: now(), last_step: step, secret: seal(accountId, { secret: pending.secret }) })
          .where('account_id', '=', accountId).where('confirmed_at', 'is', null)
          .returning('account_id').executeTakeFirst();
        if (!done) return false;
        await trx.deleteFrom('recovery_codes').where('account_id', '=', accountId).execute();
        await trx.insertInto('recovery_codes').values((pending.recoveryCodes ?? []).map((code) => ({ account_id: accountId, code_hash: hashCode(normalizeRecoveryCode(code)), used_at: null }))).execute();
        await deps.audit.record({ actorKind: 'user', actorId: accountId, subjectId: accountId, action: 'second_factor.enrolled', outcome: 'success', ip: from.ip, userAgent: from.userAgent, clientId: from.clientId }, trx);
        return true;
      });
      if (!confirmed) return { ok: false, reason: 'not_enrolled' };
      await failures.delete(accountId);
      return { ok: true, method: 'totp' };
    },

    /** A code from the app, or a recovery code; each accepted once. */
    async verify(accountId: string, typed: string, from: { ip: string; userAgent?: string; clientId?: string }): Promise<SecondFactorCheck> {
      const taken = await takeAttempt(accountId);
      if (taken) return taken;
      const row = await deps.db.selectFrom('second_factors').select(['secret', 'confirmed_at']).where('account_id', '=', accountId).executeTakeFirst();
      if (!row?.confirmed_at) return { ok: false, reason: 'not_enrolled' };
      let method: 'totp' | 'recovery_code' | undefined;
      if (/^\s*\d{6}\s*$/.test(typed)) {
        const step = await matchingStep(open(accountId, row.secret).secret, typed);
        const accepted = step !== null && (await deps.db.updateTable('second_factors').set({ last_step: step })
          .where('account_id', '=', accountId)
          .where((eb) => eb.or([eb('last_step', 'is', null), eb('last_step', '<', String(step))]))
          .returning('account_id').executeTakeFirst());
        if (accepted) method = 'totp';
      } else {
        const used = await deps.db.updateTable('recovery_codes').set({ used_at: now() })
          .where('account_id', '=', accountId).where('code_hash', '=', hashCode(normalizeRecoveryCode(typed))).where('used_at', 'is', null)
          .returning('code_hash').executeTakeFirst();
        if (used) method = 'recovery_code';
      }
      if (!method) return failed(accountId, 'second_factor.verify', from);
      await failures.delete(accountId);
      await deps.audit.record({ actorKind: 'user', actorId: accountId, subjectId: accountId, action: 'second_factor.verify', outcome: 'success', ip: from.ip, userAgent: from.userAgent, clientId: from.clientId, details: { method } });
      return { ok: true, method };
    },

    /** What the person's own page shows: since when the factor is on, and how many recovery codes are left. */
    async overview(accountId: string): Promise<{ enrolledAt: Date | null; recoveryCodesLeft: number; officer: boolean }> {
      const [row, left, status] = await Promise.all([
        deps.db.selectFrom('second_factors').select('confirmed_at').where('account_id', '=', accountId).executeTakeFirst(),
        this.recoveryCodesLeft(accountId),
        this.status(accountId),
      ]);
      return { enrolledAt: row?.confirmed_at ?? null, recoveryCodesLeft: left, officer: status.officer };
    },

    /** Ten new recovery codes, shown once; every earlier one stops working. Undefined without a factor. */
    async regenerateRecoveryCodes(accountId: string, from: { ip: string; userAgent?: string }): Promise<string[] | undefined> {
      const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
      return deps.db.transaction().execute(async (trx) => {
        const factor = await trx.selectFrom('second_factors').select('account_id').where('account_id', '=', accountId).where('confirmed_at', 'is not', null).forUpdate().executeTakeFirst();
        if (!factor) return undefined;
        await trx.deleteFrom('recovery_codes').where('account_id', '=', accountId).execute();
        await trx.insertInto('recovery_codes').values(codes.map((code) => ({ account_id: accountId, code_hash: hashCode(normalizeRecoveryCode(code)), used_at: null }))).execute();
        await deps.audit.record({ actorKind: 'user', actorId: accountId, subjectId: accountId, action: 'second_factor.recovery_codes_regenerated', outcome: 'success', ip: from.ip, userAgent: from.userAgent }, trx);
        return codes;
      });
    },

    /**
     * Switches the factor off, with its recovery codes. Refused to a security officer, whose
     * sign-in requires it (DOMAIN.md §5): checked in the transaction that deletes.
     */
    async remove(accountId: string, from: { ip: string; userAgent?: string }): Promise<'removed' | 'not_enrolled' | 'required'> {
      return deps.db.transaction().execute(async (trx) => {
        const officer = await trx.selectFrom('school_assignments').select('account_id').where('account_id', '=', accountId).where('security_officer', '=', true).forShare().executeTakeFirst();
        if (officer) {
          await deps.audit.record({ actorKind: 'user', actorId: accountId, subjectId: accountId, action: 'second_factor.removed', outcome: 'refused', ip: from.ip, userAgent: from.userAgent, details: { reason: 'officer_profile' } }, trx);
          return 'required';
        }
        const deleted = await trx.deleteFrom('second_factors').where('account_id', '=', accountId).returning('confirmed_at').executeTakeFirst();
        await trx.deleteFrom('recovery_codes').where('account_id', '=', accountId).execute();
        if (!deleted?.confirmed_at) return 'not_enrolled';
        await deps.audit.record({ actorKind: 'user', actorId: accountId, subjectId: accountId, action: 'second_factor.removed', outcome: 'success', ip: from.ip, userAgent: from.userAgent }, trx);
        return 'removed';
      });
    },

    async recoveryCodesLeft(accountId: string): Promise<number> {
      const row = await deps.db.selectFrom('recovery_codes').select(sql<string>`count(*)`.as('n')).where('account_id', '=', accountId).where('used_at', 'is', null).executeTakeFirstOrThrow();
      return Number(row.n);
    },
  };

  /** The attempt's point is taken before any check; a refusal when none is left. */
  async function takeAttempt(accountId: string): Promise<SecondFactorCheck | undefined> {
    return failures.consume(accountId).then(
      () => undefined,
      (rejection: unknown) => {
        if (rejection instanceof Error) throw rejection;
        return { ok: false, reason: 'throttled', retryAfterSeconds: Math.max(1, Math.ceil((rejection as RateLimiterRes).msBeforeNext / 1000)) } as const;
      },
    );
  }

  async function failed(accountId: string, action: string, from: { ip: string; userAgent?: string; clientId?: string }): Promise<SecondFactorCheck> {
    await deps.audit.record({ actorKind: 'user', actorId: accountId, subjectId: accountId, action, outcome: 'failure', ip: from.ip, userAgent: from.userAgent, clientId: from.clientId, details: { reason: 'wrong_code' } });
    return { ok: false, reason: 'wrong_code' };
  }

  /** The time step of a valid code, or null. */
  async function matchingStep(secret: string, typed: string): Promise<number | null> {
    const token = typed.replace(/\s/g, '');
    if (!/^\d{6}$/.test(token)) return null;
    const result = await verifyTotp({ secret, token, epoch: Math.floor(now().getTime() / 1000), epochTolerance: CLOCK_TOLERANCE_SECONDS });
    return result.valid ? ((result as { timeStep?: number }).timeStep ?? null) : null;
  }
}

export type SecondFactor = ReturnType<typeof createSecondFactor>;
