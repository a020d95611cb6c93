import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import { referenceEmail } from '../accounts/account.js';
import { validateCodiceFiscale, type CodiceFiscaleProblem } from '../accounts/codice-fiscale.js';
import { brokenRules, type PasswordPolicy, type PasswordRule } from '../accounts/password-policy.js';
import { ProvisioningError, type createAccountProvisioning } from '../accounts/provisioning.js';
import { createAccountRepository } from '../accounts/repository.js';
import { baseUsername, pickUsername } from '../accounts/username.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Db } from '../db/index.js';
import type { Logger } from '../logger.js';
import type { OutgoingMailQueue } from '../mail/outgoing.js';
import type { RecoveryThrottle } from '../recovery/throttle.js';
import type { RequestOrigin } from '../recovery/service.js';
import { registrationAttemptMail, registrationCodeMail, registrationWelcomeMail } from './mail.js';
import type { BirthPlace } from './places.js';
import {
  createRegistrationRepository, newRegistrationToken, REGISTRATION_TOKEN_PATTERN, registrationId,
  type Registration, type RegistrationData, type RegistrationStep,
} from './store.js';

/** An abandoned attempt is forgotten after a day. */
export const REGISTRATION_TTL_MS = 24 * 60 * 60 * 1000;
/** The e-mail code: 15 minutes, 5 tries, one new code a minute. */
export const CODE_MINUTES = 15;
export const CODE_MAX_TRIES = 5;
export const CODE_RESEND_SECONDS = 60;

export type Throttled = { ok: false; problem: 'throttled'; retryAfterSeconds: number };

export type CodeCheck =
  | { ok: true }
  | { ok: false; problem: 'wrong'; triesLeft: number }
  | { ok: false; problem: 'expired' | 'exhausted' | 'missing' };

export type CompleteOutcome =
  | { ok: true; outcome: 'created'; username: string; accountId: string }
  /** the codice fiscale already has an account: nothing created, its owner told */
  | { ok: true; outcome: 'existing' }
  | { ok: false; problem: 'rules'; broken: PasswordRule[] }
  | { ok: false; problem: 'invalid' };

/** Problems of a CF against the identity and place typed at step 1. */
export type FiscalCodeProblem = CodiceFiscaleProblem | 'cf.place_mismatch';

/**
 * Self-registration (DOMAIN.md §3): identity → codice fiscale → e-mail verified by a code →
 * privacy → username → password. One row per attempt (store.ts); each step writes only when
 * everything it received is valid, and clears what later steps had built on the old values.
 * One account per CF: a second registration is not told at step 2 (the same page for every
 * CF); at the end nothing is created and the existing owner gets an e-mail.
 */
export function createRegistrationService(deps: {
  db: Db;
  audit: AuditLog;
  provisioning: ReturnType<typeof createAccountProvisioning>;
  policy: PasswordPolicy;
  mail: OutgoingMailQueue;
  throttle: RecoveryThrottle;
  logger: Logger;
  now?: () => Date;
}) {
  const now = deps.now ?? (() => new Date());
  const repo = createRegistrationRepository(deps.db);
  const accounts = createAccountRepository(deps.db);

  const auditEvent = (action: string, from: RequestOrigin, outcome: 'success' | 'failure' | 'refused', details: Record<string, unknown>, subjectId: string | null = null) =>
    deps.audit.record({ actorKind: 'anonymous', subjectId, action, outcome, ip: from.ip, userAgent: from.userAgent, details });

  const codeHash = (registration: Pick<Registration, 'id'>, code: string) =>
    createHash('sha256').update(`${registration.id}:${code}`, 'utf8').digest('hex');

  /** The data of steps up to `step` (included); later ones are dropped. */
  function keepUpTo(data: RegistrationData, step: RegistrationStep): RegistrationData {
    const kept: RegistrationData = {};
    const order: Array<[RegistrationStep, Array<keyof RegistrationData>]> = [
      ['identity', ['givenName', 'familyName', 'sex', 'birthDate', 'birthPlace', 'place']],
      ['fiscal_code', ['fiscalCode']],
      ['email', ['email', 'mobile']],
      ['code', ['emailVerified']],
      ['privacy', ['privacyAcknowledgedAt']],
      ['username', ['username']],
    ];
    for (const [name, keys] of order) {
      for (const key of keys) if (data[key] !== undefined) (kept as Record<string, unknown>)[key] = data[key];
      if (name === step) break;
    }
    return kept;
  }

  async function sendCode(registration: Registration, email: string, from: RequestOrigin) {
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    const at = now();
    await repo.update(registration.id, { code: { hash: codeHash(registration, code), expiresAt: new Date(at.getTime() + CODE_MINUTES * 60_000), sentAt: at, tries: 0 } });
    const name = { givenName: registration.data.givenName ?? '', familyName: registration.data.familyName ?? '' };
    deps.mail.send(email, registrationCodeMail(name, { code, minutes: CODE_MINUTES }), { template: 'registration_code', requestId: from.requestId });
  }

  return {
    codeMinutes: CODE_MINUTES,

    /** The attempt behind the cookie's token, unless it expired. */
    async find(token: string | undefined): Promise<Registration | undefined> {
      if (!token || !REGISTRATION_TOKEN_PATTERN.test(token)) return undefined;
      return repo.find(registrationId(token), now());
    },

    /** A new attempt (one throttle point for the address). */
    async start(from: RequestOrigin, returnUid: string | null): Promise<{ ok: true; token: string; registration: Registration } | Throttled> {
      const ticket = await deps.throttle.take({ ip: from.ip, subjects: [] });
      if (!ticket.allowed) {
        await auditEvent('registration.started', from, 'refused', { reason: 'throttled' });
        return { ok: false, problem: 'throttled', retryAfterSeconds: ticket.retryAfterSeconds };
      }
      const { token, id } = newRegistrationToken();
      const createdAt = now();
      await repo.deleteExpired(createdAt);
      await repo.insert({ id, returnUid, createdAt, expiresAt: new Date(createdAt.getTime() + REGISTRATION_TTL_MS) });
      await auditEvent('registration.started', from, 'success', {});
      return { ok: true, token, registration: (await repo.find(id, createdAt))! };
    },

    async rememberReturn(registration: Registration, returnUid: string): Promise<void> {
      if (registration.returnUid !== returnUid) await repo.update(registration.id, { returnUid });
    },

    /** Step 1. */
    async saveIdentity(registration: Registration, identity: Required<Pick<RegistrationData, 'givenName' | 'familyName' | 'sex' | 'birthDate' | 'birthPlace' | 'place'>>): Promise<void> {
      await repo.update(registration.id, { step: 'fiscal_code', data: { ...identity }, code: { hash: null, expiresAt: null, sentAt: null, tries: 0 } });
    },

    /** Step 2: the CF in full, against names, date, sex and the birth place's cadastral code. */
    async saveFiscalCode(registration: Registration, fiscalCode: string): Promise<{ ok: true } | { ok: false; problems: FiscalCodeProblem[] }> {
      const d = registration.data;
      const check = validateCodiceFiscale(fiscalCode, { givenName: d.givenName!, familyName: d.familyName!, birthDate: d.birthDate!, sex: d.sex! }, now());
      const problems: FiscalCodeProblem[] = [...check.problems];
      if (check.decoded && check.decoded.placeCode !== d.birthPlace!.code) problems.push('cf.place_mismatch');
      if (problems.length) return { ok: false, problems };
      await repo.update(registration.id, { step: 'email', data: { ...keepUpTo(d, 'identity'), fiscalCode: check.normalized } });
      return { ok: true };
    },

    /** Step 3: the address (and mobile), then a code to it. */
    async saveEmail(registration: Registration, contact: { email: string; mobile?: string }, from: RequestOrigin): Promise<{ ok: true } | Throttled> {
      const ticket = await deps.throttle.take({ ip: from.ip, subjects: [`email:${contact.email.toLowerCase()}`] });
      if (!ticket.allowed) {
        await auditEvent('registration.code_sent', from, 'refused', { reason: 'throttled' });
        return { ok: false, problem: 'throttled', retryAfterSeconds: ticket.retryAfterSeconds };
      }
      const data = { ...keepUpTo(registration.data, 'fiscal_code'), email: contact.email, ...(contact.mobile ? { mobile: contact.mobile } : {}) };
      await repo.update(registration.id, { step: 'code', data });
      await sendCode({ ...registration, data }, contact.email, from);
      await auditEvent('registration.code_sent', from, 'success', {});
      return { ok: true };
    },

    /** A new code to the same address, at most one a minute. */
    async resendCode(registration: Registration, from: RequestOrigin): Promise<{ ok: true } | Throttled | { ok: false; problem: 'too_soon'; retryAfterSeconds: number }> {
      const sentAt = registration.codeSentAt?.getTime() ?? 0;
      const wait = Math.ceil((sentAt + CODE_RESEND_SECONDS * 1000 - now().getTime()) / 1000);
      if (wait > 0) return { ok: false, problem: 'too_soon', retryAfterSeconds: wait };
      const email = registration.data.email!;
      const ticket = await deps.throttle.take({ ip: from.ip, subjects: [`email:${email.toLowerCase()}`] });
      if (!ticket.allowed) return { ok: false, problem: 'throttled', retryAfterSeconds: ticket.retryAfterSeconds };
      await sendCode(registration, email, from);
      return { ok: true };
    },

    /** Step 3b: the code. Five wrong tries spend it; so does its expiry. */
    async checkCode(registration: Registration, code: string, from: RequestOrigin): Promise<CodeCheck> {
      if (!registration.codeHash || !registration.codeExpiresAt) return { ok: false, problem: 'missing' };
      if (registration.codeTries >= CODE_MAX_TRIES) return { ok: false, problem: 'exhausted' };
      if (registration.codeExpiresAt.getTime() <= now().getTime()) return { ok: false, problem: 'expired' };
      const expected = Buffer.from(registration.codeHash, 'hex');
      const given = Buffer.from(codeHash(registration, code), 'hex');
      if (!timingSafeEqual(expected, given)) {
        const tries = await repo.countWrongCode(registration.id);
        await auditEvent('registration.email_verified', from, 'failure', { reason: 'wrong_code', tries });
        return tries >= CODE_MAX_TRIES ? { ok: false, problem: 'exhausted' } : { ok: false, problem: 'wrong', triesLeft: CODE_MAX_TRIES - tries };
      }
      await repo.update(registration.id, {
        step: 'privacy',
        data: { ...keepUpTo(registration.data, 'email'), emailVerified: true },
        code: { hash: null, expiresAt: null, sentAt: registration.codeSentAt, tries: 0 },
      });
      await auditEvent('registration.email_verified', from, 'success', {});
      return { ok: true };
    },

    /** Step 4, and the username step 5 proposes (the same rule as provisioning). */
    async acknowledgePrivacy(registration: Registration): Promise<void> {
      const d = registration.data;
      const base = baseUsername(d.givenName!, d.familyName!);
      const username = base ? pickUsername(base, await accounts.usernamesStartingWith(base)) : '';
      await repo.update(registration.id, { step: 'username', data: { ...keepUpTo(d, 'code'), privacyAcknowledgedAt: now().toISOString(), username } });
    },

    async confirmUsername(registration: Registration): Promise<void> {
      await repo.update(registration.id, { step: 'password' });
    },

    /** The rules the password breaks for this person (history does not exist yet). */
    passwordProblems(registration: Registration, password: string): PasswordRule[] {
      const d = registration.data;
      return brokenRules(deps.policy, password, {
        owner: { username: d.username ?? '', givenName: d.givenName!, familyName: d.familyName!, fiscalCode: d.fiscalCode!, birthDate: d.birthDate! },
      });
    },

    /**
     * Step 6: the account, by the provisioning service (one transaction with its audit entry);
     * or, when the CF already has one, nothing but an e-mail to its owner.
     */
    async complete(registration: Registration, password: string, from: RequestOrigin): Promise<CompleteOutcome> {
      const d = registration.data;
      if (registration.step !== 'password' || !d.emailVerified || !d.fiscalCode || !d.email || !d.birthPlace) return { ok: false, problem: 'invalid' };
      const broken = this.passwordProblems(registration, password);
      if (broken.length) return { ok: false, problem: 'rules', broken };

      const existing = async () => {
        const owner = await accounts.findByFiscalCode(d.fiscalCode!);
        if (!owner) return undefined;
        await repo.delete(registration.id);
        await auditEvent('registration.completed', from, 'refused', { reason: 'fiscal_code_taken' }, owner.id);
        const to = referenceEmail(owner);
        if (to) deps.mail.send(to.address, registrationAttemptMail(owner), { template: 'registration_attempt', requestId: from.requestId });
        return { ok: true, outcome: 'existing' } as const;
      };
      const taken = await existing();
      if (taken) return taken;

      let account;
      try {
        account = await deps.provisioning.provision({
          type: 'standard',
          givenName: d.givenName!,
          familyName: d.familyName!,
          fiscalCode: d.fiscalCode,
          birthDate: d.birthDate!,
          birthPlace: d.birthPlace.label,
          sex: d.sex!,
          personalEmail: d.email,
          personalEmailVerified: true,
          ...(d.mobile ? { mobilePhone: d.mobile } : {}),
          password,
        });
      } catch (error) {
        // two attempts with one CF at once: the unique constraint let one through
        if ((error as { code?: string }).code === '23505') {
          const other = await existing();
          if (other) return other;
        }
        if (error instanceof ProvisioningError) return { ok: false, problem: 'invalid' };
        throw error;
      }
      await repo.update(registration.id, { step: 'done', accountId: account.id, data: { ...d, username: account.username } });
      await auditEvent('registration.completed', from, 'success', {}, account.id);
      deps.mail.send(d.email, registrationWelcomeMail(account), { template: 'registration_welcome', requestId: from.requestId });
      return { ok: true, outcome: 'created', username: account.username, accountId: account.id };
    },

    /** The account a completed attempt created, once (the attempt ends). */
    async claimCompleted(token: string | undefined): Promise<{ accountId: string; returnUid: string | null; username: string } | undefined> {
      if (!token || !REGISTRATION_TOKEN_PATTERN.test(token)) return undefined;
      return repo.claimCompleted(registrationId(token), now());
    },

    /** Abandoned attempts (also cleared whenever a new one starts). */
    async deleteExpired(): Promise<number> {
      return repo.deleteExpired(now());
    },
  };
}

export type RegistrationService = ReturnType<typeof createRegistrationService>;
export type { BirthPlace };
