import { apiClientDetail, type AuditLog } from '../audit/audit-log.js';
import type { Db } from '../db/index.js';
import { createEnablementRepository, type Enablement } from './repository.js';

/**
 * Any live request → revoked, audited with who did it and the state it left; false when it
 * was revoked already (by another request meanwhile). The record is kept; a new request may start.
 */
export async function revokeRequest(
  deps: { db: Db; audit: AuditLog },
  request: Enablement,
  actor: { kind: 'user' | 'admin' | 'system' | 'service'; id?: string; ip?: string; userAgent?: string; client?: string },
  at: Date,
): Promise<boolean> {
  if (!(await createEnablementRepository(deps.db).revoke(request.id, at))) return false;
  await deps.audit.record({ actorKind: actor.kind, actorId: actor.id ?? null, subjectId: request.accountId, action: 'enablement.revoked', outcome: 'success', ip: actor.ip, userAgent: actor.userAgent, clientId: request.serviceId, details: { number: request.number, previous: request.state, ...apiClientDetail(actor) } });
  return true;
}

/** What an administrator does with enablements (the command line): list a person's, revoke one. */
export function createEnablementAdministration(deps: { db: Db; audit: AuditLog; now?: () => Date }) {
  const now = deps.now ?? (() => new Date());
  const repo = createEnablementRepository(deps.db);
  return {
    list: (fiscalCode: string): Promise<Enablement[]> => repo.ofFiscalCode(fiscalCode.trim().toUpperCase()),

    /** Revokes the request with this number; the record is kept, a new request may start. */
    async revoke(number: string, actor: { kind: 'admin' | 'system' | 'service'; id?: string; ip?: string; userAgent?: string; client?: string }): Promise<'revoked' | 'not_found' | 'already'> {
      if (!/^[A-Z0-9]{1,8}-\d{4}-\d{6,}$/i.test(number.trim())) return 'not_found';
      const request = await repo.findByNumber(number.trim().toUpperCase());
      if (!request) return 'not_found';
      return (await revokeRequest(deps, request, actor, now())) ? 'revoked' : 'already';
    },
  };
}

export type EnablementAdministration = ReturnType<typeof createEnablementAdministration>;
