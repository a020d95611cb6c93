import { sql } from 'kysely';
import { normalizeUsername } from '../accounts/username.js';
import type { Db } from '../db/index.js';
import type { AuditActorKind, AuditOutcome } from '../db/schema.js';

export const AUDIT_PAGE_SIZE = 50;

/** What the viewer filters by: usernames (or account ids), an action prefix, days in Italian time. */
export interface AuditFilter {
  actor?: string;
  subject?: string;
  /** `officer.` finds every officer action; `officer.password_reset` that one */
  action?: string;
  /** 'YYYY-MM-DD', inclusive, Europe/Rome */
  from?: string;
  to?: string;
  /** the page after the one that ended with this entry (opaque to the person) */
  after?: string;
}

export interface AuditRow {
  id: string;
  occurredAt: Date;
  actorKind: AuditActorKind;
  actor: string | null;
  subject: string | null;
  action: string;
  outcome: AuditOutcome;
  ip: string | null;
  clientId: string | null;
  details: Record<string, unknown>;
}

export interface AuditPage {
  rows: AuditRow[];
  /** the cursor of the next (older) page, when there is one */
  next: string | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CURSOR = /^\d{1,18}$/;

/**
 * The audit log, read only, newest first, a page at a time (keyset on the entry id: the next
 * page starts below the last entry shown, however many entries arrive meanwhile). Nothing here writes:
 * the table itself refuses UPDATE, DELETE and TRUNCATE.
 */
export function createAuditViewer(db: Db) {
  const accountIdOf = async (who: string): Promise<string | null> => {
    if (UUID.test(who)) return who;
    const row = await db.selectFrom('accounts').select('id').where(sql<string>`lower(username)`, '=', normalizeUsername(who).toLowerCase()).executeTakeFirst();
    return row?.id ?? null;
  };

  return {
    async page(filter: AuditFilter): Promise<AuditPage> {
      const [actorId, subjectId] = await Promise.all([
        filter.actor ? accountIdOf(filter.actor) : undefined,
        filter.subject ? accountIdOf(filter.subject) : undefined,
      ]);
      // a username nobody has: nothing to show (no query with an impossible condition)
      if (actorId === null || subjectId === null) return { rows: [], next: null };
      let query = db
        .selectFrom('audit_log as l')
        .leftJoin('accounts as a', 'a.id', 'l.actor_id')
        .leftJoin('accounts as s', 's.id', 'l.subject_id')
        .select(['l.id', 'l.occurred_at', 'l.actor_kind', 'l.actor_id', 'a.username as actor_username', 'l.subject_id', 's.username as subject_username', 'l.action', 'l.outcome', 'l.ip', 'l.client_id', 'l.details'])
        // ids grow with every entry: newest first, and an exact cursor
        .orderBy('l.id', 'desc')
        .limit(AUDIT_PAGE_SIZE + 1);
      if (actorId) query = query.where('l.actor_id', '=', actorId);
      if (subjectId) query = query.where('l.subject_id', '=', subjectId);
      if (filter.action) query = query.where('l.action', 'like', filter.action.replace(/[\\%_]/g, (c) => '\\' + c) + '%');
      if (filter.from) query = query.where('l.occurred_at', '>=', sql<Date>`(${filter.from}::date::timestamp at time zone 'Europe/Rome')`);
      if (filter.to) query = query.where('l.occurred_at', '<', sql<Date>`((${filter.to}::date + 1)::timestamp at time zone 'Europe/Rome')`);
      if (filter.after && CURSOR.test(filter.after)) query = query.where('l.id', '<', filter.after);

      const found = await query.execute();
      const rows = found.slice(0, AUDIT_PAGE_SIZE).map((r): AuditRow => ({
        id: String(r.id),
        occurredAt: r.occurred_at,
        actorKind: r.actor_kind,
        actor: r.actor_username ?? r.actor_id,
        subject: r.subject_username ?? r.subject_id,
        action: r.action,
        outcome: r.outcome,
        ip: r.ip,
        clientId: r.client_id,
        details: r.details,
      }));
      const last = rows.at(-1);
      return { rows, next: found.length > AUDIT_PAGE_SIZE && last ? last.id : null };
    },
  };
}

export type AuditViewer = ReturnType<typeof createAuditViewer>;
