import { sql } from 'kysely';
import { normalizeUsername } from '../accounts/username.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Db } from '../db/index.js';

export interface Administrator {
  accountId: string;
  username: string;
  name: string;
  grantedAt: Date;
  grantedBy: string | null;
}

/** Who grants or revokes: an administrator (console) or the operator at the command line. */
export interface RoleActor {
  kind: 'admin' | 'system';
  id?: string;
  ip?: string;
  userAgent?: string;
}

export type GrantOutcome = 'granted' | 'already' | 'no_account';
export type RevokeOutcome = 'revoked' | 'not_admin' | 'no_account' | 'last_one';

/**
 * The administrator role (DOMAIN.md §2). Never the last one revoked: the revocation locks
 * every administrator row before it counts them, so two administrators revoking each other
 * at once cannot both succeed.
 */
export function createAdministrators(deps: { db: Db; audit: AuditLog }) {
  const accountIdOf = async (trx: Db, username: string) =>
    (await trx.selectFrom('accounts').select('id').where(sql<string>`lower(username)`, '=', normalizeUsername(username).toLowerCase()).executeTakeFirst())?.id;

  const record = (trx: Db, actor: RoleActor, subjectId: string, action: string, outcome: 'success' | 'refused', details: Record<string, unknown> = {}) =>
    deps.audit.record({ actorKind: actor.kind, actorId: actor.id ?? null, subjectId, action, outcome, ip: actor.ip, userAgent: actor.userAgent, details }, trx);

  return {
    async isAdministrator(accountId: string): Promise<boolean> {
      return (await deps.db.selectFrom('administrators').select('account_id').where('account_id', '=', accountId).executeTakeFirst()) !== undefined;
    },

    async list(): Promise<Administrator[]> {
      const rows = await deps.db
        .selectFrom('administrators as a')
        .innerJoin('accounts as u', 'u.id', 'a.account_id')
        .leftJoin('accounts as g', 'g.id', 'a.granted_by')
        .select(['a.account_id', 'u.username', 'u.given_name', 'u.family_name', 'a.granted_at', 'g.username as granted_by'])
        .orderBy('u.username')
        .execute();
      return rows.map((r) => ({ accountId: r.account_id, username: r.username, name: `${r.given_name} ${r.family_name}`, grantedAt: r.granted_at, grantedBy: r.granted_by }));
    },

    async grant(username: string, actor: RoleActor): Promise<GrantOutcome> {
      return deps.db.transaction().execute(async (trx) => {
        const accountId = await accountIdOf(trx, username);
        if (!accountId) return 'no_account';
        const inserted = await trx.insertInto('administrators').values({ account_id: accountId, granted_by: actor.id ?? null })
          .onConflict((oc) => oc.column('account_id').doNothing()).returning('account_id').executeTakeFirst();
        if (!inserted) return 'already';
        await record(trx, actor, accountId, 'admin.role_granted', 'success');
        return 'granted';
      });
    },

    async revoke(username: string, actor: RoleActor): Promise<RevokeOutcome> {
      return deps.db.transaction().execute(async (trx) => {
        const accountId = await accountIdOf(trx, username);
        if (!accountId) return 'no_account';
        const all = await trx.selectFrom('administrators').select('account_id').forUpdate().execute();
        if (!all.some((a) => a.account_id === accountId)) return 'not_admin';
        if (all.length === 1) {
          await record(trx, actor, accountId, 'admin.role_revoked', 'refused', { reason: 'last_administrator' });
          return 'last_one';
        }
        await trx.deleteFrom('administrators').where('account_id', '=', accountId).execute();
        await record(trx, actor, accountId, 'admin.role_revoked', 'success');
        return 'revoked';
      });
    },
  };
}

export type Administrators = ReturnType<typeof createAdministrators>;
