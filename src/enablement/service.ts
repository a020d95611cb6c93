import { referenceEmail, type Account } from '../accounts/account.js';
import type { PasswordHasher } from '../accounts/password-hashing.js';
import { createAccountRepository } from '../accounts/repository.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Db } from '../db/index.js';
import type { OutgoingMailQueue } from '../mail/outgoing.js';
import type { RecoveryLimits, RecoveryThrottle } from '../recovery/throttle.js';
import { revokeRequest } from './administration.js';
import { applicationFormPdf } from './application-form.js';
import type { IdentityDocument } from './document.js';
import { enablementCodeMail, enablementIdentifiedMail } from './mail.js';
import { newTemporaryCode, personalCodeProblems, type PersonalCodeProblem } from './personal-code.js';
import { createEnablementRepository, type Enablement } from './repository.js';
import type { EnablementState } from './states.js';

/** New temporary codes: five an hour per account, twenty per address (network). */
export const ENABLEMENT_CODE_LIMITS: RecoveryLimits = {
  perIp: { requests: 20, windowSeconds: 60 * 60 },
  perSubject: { requests: 5, windowSeconds: 60 * 60 },
};

/** Personal codes tried (the step-up): five per quarter of an hour per account, thirty per address. */
export const PERSONAL_CODE_LIMITS: RecoveryLimits = {
  perIp: { requests: 30, windowSeconds: 15 * 60 },
  perSubject: { requests: 5, windowSeconds: 15 * 60 },
};

/** Wrong temporary codes before the code is spent (a new one must be asked). */
export const TEMPORARY_CODE_MAX_TRIES = 5;

type From = { ip: string; userAgent?: string };
export interface ServiceRef { id: string; name: string }

export type TemporaryCodeCheck =
  | { ok: true; enablement: Enablement }
  | { ok: false; problem: 'wrong'; triesLeft: number }
  | { ok: false; problem: 'exhausted' | 'expired' | 'stale' };

/**
 * Service enablement, the steps a person takes at the sign-in (DOMAIN.md §7, states.ts):
 * the request with its document and the temporary personal code e-mailed; the code entered
 * (the request then waits for identification at a school or office); a new code when the
 * old one expired or was spent. The modulo di adesione is built from the request.
 *
 * Every step is a guarded move of the request's state: the same form sent twice, or a code
 * entered twice at once, moves it once.
 */
export function createEnablementService(deps: {
  db: Db;
  hasher: PasswordHasher;
  audit: AuditLog;
  mail: OutgoingMailQueue;
  /** bounds the codes sent to one account */
  throttle: RecoveryThrottle;
  /** bounds the personal codes tried for one account (the step-up) */
  personalCodeThrottle: RecoveryThrottle;
  /** how long a temporary personal code lasts */
  codeDays: number;
  now?: () => Date;
}) {
  const now = deps.now ?? (() => new Date());
  const repo = createEnablementRepository(deps.db);

  async function auditEvent(account: Pick<Account, 'id'>, action: string, outcome: 'success' | 'failure', from: From, service: string, details: Record<string, unknown>) {
    await deps.audit.record({ actorKind: 'user', actorId: account.id, subjectId: account.id, action, outcome, ip: from.ip, userAgent: from.userAgent, clientId: service, details });
  }

  async function sendCode(account: Account, service: ServiceRef, number: string, code: string) {
    const to = referenceEmail(account);
    if (to) deps.mail.send(to.address, enablementCodeMail(account, { service: service.name, number, code, days: deps.codeDays }), { template: 'enablement_code' });
  }

  const codeExpiry = (at: Date) => new Date(at.getTime() + deps.codeDays * 86_400_000);

  /**
   * A new temporary code for a request in `state` (throttled per account): stored by `store`
   * (a guarded move), then e-mailed and audited.
   */
  async function issueTemporaryCode(
    account: Account,
    service: ServiceRef,
    from: From,
    step: { state: EnablementState; store: (id: string, code: { hash: string; expiresAt: Date }, at: Date) => Promise<boolean>; action: string },
  ): Promise<{ ok: true } | { ok: false; problem: 'stale' } | { ok: false; problem: 'throttled'; retryAfterSeconds: number }> {
    const request = await repo.live(account.id, service.id);
    if (!request || request.state !== step.state) return { ok: false, problem: 'stale' };
    const ticket = await deps.throttle.take({ ip: from.ip, subjects: [`account:${account.id}`] });
    if (!ticket.allowed) return { ok: false, problem: 'throttled', retryAfterSeconds: ticket.retryAfterSeconds };
    const at = now();
    const code = newTemporaryCode();
    if (!(await step.store(request.id, { hash: await deps.hasher.hash(code), expiresAt: codeExpiry(at) }, at))) return { ok: false, problem: 'stale' };
    await sendCode(account, service, request.number, code);
    await auditEvent(account, step.action, 'success', from, service.id, { number: request.number });
    return { ok: true };
  }

  return {
    status: (accountId: string, serviceId: string): Promise<Enablement | undefined> => repo.live(accountId, serviceId),

    /** The form sent: a request (code_sent) and its temporary code to the reference e-mail. */
    async request(account: Account, service: ServiceRef, document: IdentityDocument, from: From): Promise<Enablement | undefined> {
      const at = now();
      const code = newTemporaryCode();
      const created = await repo.create({
        accountId: account.id,
        serviceId: service.id,
        prefix: service.id.slice(0, 3).toUpperCase(),
        document,
        codeHash: await deps.hasher.hash(code),
        codeExpiresAt: codeExpiry(at),
        at,
      });
      if (!created) return undefined;
      await sendCode(account, service, created.number, code);
      await auditEvent(account, 'enablement.requested', 'success', from, service.id, { number: created.number, document_type: document.type });
      return created;
    },

    /**
     * The temporary code entered: one try is counted before the code is compared, so a burst
     * of guesses gets TEMPORARY_CODE_MAX_TRIES in all; right, the request waits for
     * identification.
     */
    async confirmTemporaryCode(account: Account, serviceId: string, code: string, from: From): Promise<TemporaryCodeCheck> {
      const request = await repo.live(account.id, serviceId);
      if (!request || request.state !== 'code_sent' || !request.temporaryCodeHash) return { ok: false, problem: 'stale' };
      if (request.temporaryCodeExpiresAt && request.temporaryCodeExpiresAt <= now()) return { ok: false, problem: 'expired' };
      const tries = await repo.countWrongCode(request.id, 'code_sent');
      if (tries > TEMPORARY_CODE_MAX_TRIES) return { ok: false, problem: 'exhausted' };
      const { valid } = await deps.hasher.verify(request.temporaryCodeHash, code);
      if (!valid) {
        await auditEvent(account, 'enablement.code_confirmed', 'failure', from, serviceId, { number: request.number, reason: 'wrong_code', tries });
        return tries >= TEMPORARY_CODE_MAX_TRIES ? { ok: false, problem: 'exhausted' } : { ok: false, problem: 'wrong', triesLeft: TEMPORARY_CODE_MAX_TRIES - tries };
      }
      if (!(await repo.move(request.id, 'code_sent', 'awaiting_identification', now(), { clearTemporaryCode: true }))) return { ok: false, problem: 'stale' };
      await auditEvent(account, 'enablement.code_confirmed', 'success', from, serviceId, { number: request.number });
      return { ok: true, enablement: { ...request, state: 'awaiting_identification' } };
    },

    /** A new temporary code in place of one expired or spent (throttled per account). */
    resendTemporaryCode: (account: Account, service: ServiceRef, from: From) =>
      issueTemporaryCode(account, service, from, {
        state: 'code_sent',
        store: (id, code, at) => repo.replaceTemporaryCode(id, 'code_sent', code, at),
        action: 'enablement.code_resent',
      }),

    /**
     * Identified: the person sets their own personal code (the rules of personal-code.ts) and
     * the request becomes enabled; the sign-in to the service then goes on.
     */
    async setPersonalCode(account: Account, serviceId: string, code: string, from: From): Promise<{ ok: true } | { ok: false; problem: 'stale' } | { ok: false; problem: 'weak'; problems: PersonalCodeProblem[] }> {
      const problems = personalCodeProblems(code, account.birthDate);
      if (problems.length) return { ok: false, problem: 'weak', problems };
      const request = await repo.live(account.id, serviceId);
      if (!request || request.state !== 'identified') return { ok: false, problem: 'stale' };
      if (!(await repo.enable(request.id, await deps.hasher.hash(code), now()))) return { ok: false, problem: 'stale' };
      await auditEvent(account, 'enablement.enabled', 'success', from, serviceId, { number: request.number });
      return { ok: true };
    },

    /**
     * The step-up: the person's personal code for an enabled service, each try taken from the
     * throttle before the comparison.
     */
    async verifyPersonalCode(account: Account, serviceId: string, code: string, from: From): Promise<{ ok: true } | { ok: false; problem: 'wrong' | 'stale' } | { ok: false; problem: 'throttled'; retryAfterSeconds: number }> {
      const ticket = await deps.personalCodeThrottle.take({ ip: from.ip, subjects: [`account:${account.id}`] });
      if (!ticket.allowed) return { ok: false, problem: 'throttled', retryAfterSeconds: ticket.retryAfterSeconds };
      const request = await repo.live(account.id, serviceId);
      if (!request || request.state !== 'enabled' || !request.personalCodeHash) return { ok: false, problem: 'stale' };
      const { valid } = await deps.hasher.verify(request.personalCodeHash, code);
      await auditEvent(account, 'enablement.personal_code_confirmed', valid ? 'success' : 'failure', from, serviceId, { number: request.number });
      return valid ? { ok: true } : { ok: false, problem: 'wrong' };
    },

    /** Recupero codice personale: a new temporary code to the reference e-mail, to be replaced at the next sign-in to the service. */
    startRecovery: (account: Account, service: ServiceRef, from: From) =>
      issueTemporaryCode(account, service, from, {
        state: 'enabled',
        store: (id, code, at) => repo.startRecovery(id, code, at),
        action: 'enablement.recovery_started',
      }),

    /** Recovering: the temporary code and a new personal code; five wrong temporary codes spend it. */
    async completeRecovery(account: Account, serviceId: string, input: { temporaryCode: string; personalCode: string }, from: From): Promise<
      { ok: true } | { ok: false; problem: 'stale' | 'expired' | 'exhausted' } | { ok: false; problem: 'wrong'; triesLeft: number } | { ok: false; problem: 'weak'; problems: PersonalCodeProblem[] }
    > {
      const problems = personalCodeProblems(input.personalCode, account.birthDate);
      if (problems.length) return { ok: false, problem: 'weak', problems };
      const request = await repo.live(account.id, serviceId);
      if (!request || request.state !== 'recovering' || !request.temporaryCodeHash) return { ok: false, problem: 'stale' };
      if (request.temporaryCodeExpiresAt && request.temporaryCodeExpiresAt <= now()) return { ok: false, problem: 'expired' };
      const tries = await repo.countWrongCode(request.id, 'recovering');
      if (tries > TEMPORARY_CODE_MAX_TRIES) return { ok: false, problem: 'exhausted' };
      const { valid } = await deps.hasher.verify(request.temporaryCodeHash, input.temporaryCode);
      if (!valid) {
        await auditEvent(account, 'enablement.recovered', 'failure', from, serviceId, { number: request.number, reason: 'wrong_code', tries });
        return tries >= TEMPORARY_CODE_MAX_TRIES ? { ok: false, problem: 'exhausted' } : { ok: false, problem: 'wrong', triesLeft: TEMPORARY_CODE_MAX_TRIES - tries };
      }
      if (!(await repo.recover(request.id, await deps.hasher.hash(input.personalCode), now()))) return { ok: false, problem: 'stale' };
      await auditEvent(account, 'enablement.recovered', 'success', from, serviceId, { number: request.number });
      return { ok: true };
    },

    /** The account's live requests, for the Area riservata. */
    liveOf: (accountId: string) => repo.liveOf(accountId),

    /** Revoked by the person (actor = subject) or an administrator; the record is kept. */
    async revoke(requestId: string, actor: { kind: 'user' | 'admin'; id: string }, from: From): Promise<Enablement | undefined> {
      const request = await repo.findById(requestId);
      // a person revokes only their own
      if (!request || request.state === 'revoked' || (actor.kind === 'user' && request.accountId !== actor.id)) return undefined;
      return (await revokeRequest(deps, request, { ...actor, ...from }, now())) ? request : undefined;
    },

    /** For an officer: the requests waiting for identification of the person with this CF. */
    awaitingIdentification: (fiscalCode: string) => repo.awaitingIdentification(fiscalCode),

    /**
     * An officer at a school or office has seen the person, the document and the signed
     * form: the request moves to identified (who, where, when) and the person is told. Any
     * officer may confirm — the person may go to any school. A second confirmation, at once
     * or later, changes nothing and is told apart.
     */
    async confirmIdentification(
      input: { requestId: string; officer: Pick<Account, 'id'>; where: string; service: (serviceId: string) => string },
      from: From,
    ): Promise<{ ok: true; enablement: Enablement } | { ok: false; problem: 'not_found' | 'already_identified' | 'own_request' }> {
      const request = await repo.findById(input.requestId);
      const refuse = async (problem: 'not_found' | 'already_identified' | 'own_request') => {
        await deps.audit.record({ actorKind: 'officer', actorId: input.officer.id, subjectId: request?.accountId ?? null, action: 'enablement.identified', outcome: 'refused', ip: from.ip, userAgent: from.userAgent, clientId: request?.serviceId ?? null, details: { reason: problem, school: input.where, ...(request ? { number: request.number } : {}) } });
        return { ok: false as const, problem };
      };
      if (!request || request.state === 'revoked' || request.state === 'code_sent') return refuse('not_found');
      // nobody identifies themselves
      if (request.accountId === input.officer.id) return refuse('own_request');
      if (!(await repo.identify(request.id, { officerId: input.officer.id, where: input.where }, now()))) return refuse('already_identified');
      await deps.audit.record({ actorKind: 'officer', actorId: input.officer.id, subjectId: request.accountId, action: 'enablement.identified', outcome: 'success', ip: from.ip, userAgent: from.userAgent, clientId: request.serviceId, details: { number: request.number, school: input.where, document_type: request.document.type } });
      const account = await createAccountRepository(deps.db).findById(request.accountId);
      const to = account && referenceEmail(account);
      if (account && to) deps.mail.send(to.address, enablementIdentifiedMail(account, { service: input.service(request.serviceId), number: request.number }), { template: 'enablement_identified' });
      return { ok: true, enablement: { ...request, state: 'identified', identifiedWhere: input.where } };
    },

    /** The modulo di adesione of the account's live request for the service. */
    async applicationForm(account: Account, service: ServiceRef): Promise<{ number: string; pdf: Buffer } | undefined> {
      const request = await repo.live(account.id, service.id);
      if (!request) return undefined;
      const pdf = await applicationFormPdf({
        serviceName: service.name,
        number: request.number,
        requestedAt: request.createdAt,
        account,
        email: referenceEmail(account)?.address ?? null,
        document: request.document,
      });
      return { number: request.number, pdf };
    },
  };
}

export type EnablementService = ReturnType<typeof createEnablementService>;
