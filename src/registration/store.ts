import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../db/index.js';
import type { BirthPlace } from './places.js';

/** The steps in order; an attempt's `step` is the next one to do. */
export const REGISTRATION_STEPS = ['identity', 'fiscal_code', 'email', 'code', 'privacy', 'username', 'password', 'done'] as const;
export type RegistrationStep = (typeof REGISTRATION_STEPS)[number];

export const stepIndex = (step: RegistrationStep) => REGISTRATION_STEPS.indexOf(step);

/** What the person typed so far (never a password). */
export interface RegistrationData {
  givenName?: string;
  familyName?: string;
  sex?: 'M' | 'F';
  /** YYYY-MM-DD */
  birthDate?: string;
  birthPlace?: BirthPlace;
  /** the place as typed, to show the form again */
  place?: { bornIn: 'italy' | 'abroad'; comune: string; province: string; country: string };
  fiscalCode?: string;
  email?: string;
  mobile?: string;
  emailVerified?: boolean;
  privacyAcknowledgedAt?: string;
  username?: string;
}

export interface Registration {
  id: string;
  step: RegistrationStep;
  data: RegistrationData;
  returnUid: string | null;
  codeHash: string | null;
  codeExpiresAt: Date | null;
  codeSentAt: Date | null;
  codeTries: number;
  accountId: string | null;
  expiresAt: Date;
}

/** 256 random bits for the cookie; the table keeps only their SHA-256. */
export function newRegistrationToken(): { token: string; id: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, id: registrationId(token) };
}

export const REGISTRATION_TOKEN_PATTERN = /^[\w-]{43}$/;

export function registrationId(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function createRegistrationRepository(db: Db) {
  return {
    async insert(row: { id: string; returnUid: string | null; createdAt: Date; expiresAt: Date }): Promise<void> {
      await db.insertInto('registrations')
        .values({ id: row.id, step: 'identity', data: '{}', return_uid: row.returnUid, created_at: row.createdAt, expires_at: row.expiresAt })
        .execute();
    },

    /** The attempt, unless it expired. */
    async find(id: string, now: Date): Promise<Registration | undefined> {
      const row = await db.selectFrom('registrations').selectAll().where('id', '=', id).where('expires_at', '>', now).executeTakeFirst();
      if (!row) return undefined;
      const data = (typeof row.data === 'string' ? JSON.parse(row.data) : row.data) as RegistrationData;
      return {
        id: row.id,
        step: row.step as RegistrationStep,
        data,
        returnUid: row.return_uid,
        codeHash: row.code_hash,
        codeExpiresAt: row.code_expires_at,
        codeSentAt: row.code_sent_at,
        codeTries: row.code_tries,
        accountId: row.account_id,
        expiresAt: row.expires_at,
      };
    },

    async update(id: string, changes: { step?: RegistrationStep; data?: RegistrationData; returnUid?: string | null; code?: { hash: string | null; expiresAt: Date | null; sentAt: Date | null; tries: number }; accountId?: string }): Promise<void> {
      await db.updateTable('registrations')
        .set({
          ...(changes.step ? { step: changes.step } : {}),
          ...(changes.data ? { data: JSON.stringify(changes.data) } : {}),
          ...(changes.returnUid !== undefined ? { return_uid: changes.returnUid } : {}),
          ...(changes.code ? { code_hash: changes.code.hash, code_expires_at: changes.code.expiresAt, code_sent_at: changes.code.sentAt, code_tries: changes.code.tries } : {}),
          ...(changes.accountId ? { account_id: changes.accountId } : {}),
        })
        .where('id', '=', id)
        .execute();
    },

    /** Counts a wrong code; the number of tries after it, atomically. */
    async countWrongCode(id: string): Promise<number> {
      const row = await db.updateTable('registrations').set((eb) => ({ code_tries: eb('code_tries', '+', 1) })).where('id', '=', id).returning('code_tries').executeTakeFirst();
      return row?.code_tries ?? Number.MAX_SAFE_INTEGER;
    },

    /** Ends a completed attempt, once: the account it created, to sign in. */
    async claimCompleted(id: string, now: Date): Promise<{ accountId: string; returnUid: string | null; username: string } | undefined> {
      const row = await db.deleteFrom('registrations')
        .where('id', '=', id).where('step', '=', 'done').where('account_id', 'is not', null).where('expires_at', '>', now)
        .returning(['account_id', 'return_uid', 'data'])
        .executeTakeFirst();
      if (!row?.account_id) return undefined;
      const data = (typeof row.data === 'string' ? JSON.parse(row.data) : row.data) as RegistrationData;
      return { accountId: row.account_id, returnUid: row.return_uid, username: data.username ?? '' };
    },

    async delete(id: string): Promise<void> {
      await db.deleteFrom('registrations').where('id', '=', id).execute();
    },

    /** Abandoned attempts. */
    async deleteExpired(now: Date): Promise<number> {
      const result = await db.deleteFrom('registrations').where('expires_at', '<=', now).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
