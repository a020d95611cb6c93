import { sql, type ExpressionBuilder } from 'kysely';
import type { AuditLog } from '../audit/audit-log.js';
import type { Db } from '../db/index.js';
import type { Database } from '../db/schema.js';
import type { Logger } from '../logger.js';
import { inactivityNoticeMail } from '../mail/messages.js';
import type { RenderMail } from '../mail/templates.js';
import type { Mailer } from '../mail/transport.js';
import { createDeadlineNotices, DAY_MS, noticesForDeadline } from './deadline-notices.js';

/** How many accounts one run gives a deadline: the work of a run stays bounded. */
const SCHEDULE_BATCH = 2000;
/** A run at the same hour of the next day still counts as a day after the last notice. */
const RUN_JITTER_MS = 60 * 60 * 1000;

export interface InactivityPolicy {
  /** months without a sign-in after which an account becomes dormant */
  months: number;
  /** days before dormancy at which a notice goes out, e.g. 90, 30, 10, 1 */
  noticeDays: readonly number[];
  /** never more accounts than this made dormant in one day (Europe/Rome) */
  dailyLimit: number;
}

export interface InactivityRun {
  /** accounts given a dormancy date this run (their first notice goes out with it), or a later one because the last notice never went */
  scheduled: number;
  /** notices sent, by days before dormancy */
  notices: Record<number, number>;
  failed: number;
  /** accounts made dormant this run */
  dormant: number;
  /** accounts past their date left active because the day's limit was reached */
  deferred: number;
}

/**
 * Inactivity (AgID Regolamento art. 20, DOMAIN.md §4). An account not signed in for
 * `months` becomes dormant, never before its notices. State of an account:
 *
 *   active ──(within the largest notice band of `last_active_at` + months)──▶ scheduled
 *     scheduled: inactivity_deadline = max(last_active_at + months, now + largest band),
 *                so even an account found late gets every notice at its distance
 *   scheduled ──(notices at each band, each once)──▶ …
 *   scheduled ──(deadline passed, last notice at least its days old, room in the day's limit)──▶ dormant
 *   scheduled ──(deadline passed, last notice never sent)──▶ scheduled again, the last band away
 *   scheduled ──(sign-in)──▶ active (deadline cleared)
 *   dormant ──(new password: Password dimenticata?, an officer's reset)──▶ active
 *
 * Every instance may run it: notices are claimed in the database, and dormancies are made
 * under an advisory lock that also counts the day's limit.
 */
export function createInactivityJob(deps: {
  db: Db;
  mailer: Mailer;
  render: RenderMail;
  audit: AuditLog;
  logger: Logger;
  policy: InactivityPolicy;
  /** ends every session, grant and token of the account at the provider */
  revokeAccess: (accountId: string) => Promise<unknown>;
  now?: () => Date;
}) {
  const now = deps.now ?? (() => new Date());
  const { months, dailyLimit } = deps.policy;
  const notices = createDeadlineNotices({
    ...deps,
    daysBefore: deps.policy.noticeDays,
    deadline: {
      kind: 'inactivity',
      column: 'inactivity_deadline',
      lastNoticeWhenOverdue: true,
      message: (account, { daysLeft, deadline }) => inactivityNoticeMail(account, { daysLeft, dormantFrom: deadline, months }),
      auditAction: 'account.inactivity_notice',
    },
  });
  const firstBand = notices.bands.at(-1) ?? 0;
  const lastBand = notices.bands[0] ?? 0;

  /** Gives a dormancy date to the accounts entering the first notice band. */
  async function schedule(at: Date): Promise<number> {
    const horizon = sql<Date>`${at}::timestamptz + ${firstBand} * interval '1 day'`;
    const threshold = sql<Date>`${horizon} - ${months} * interval '1 month'`;
    const due = (eb: ExpressionBuilder<Database, 'accounts'>) => eb.and([
      eb('status', '=', 'active'),
      eb('inactivity_deadline', 'is', null),
      eb('last_active_at', '<=', threshold),
    ]);
    const rows = await deps.db
      .updateTable('accounts')
      .set({ inactivity_deadline: sql<Date>`greatest(last_active_at + ${months} * interval '1 month', ${horizon})` })
      // repeated outside the subquery: a sign-in committed meanwhile is seen here
      .where('id', 'in', deps.db.selectFrom('accounts').select('id').where(due).orderBy('last_active_at').limit(SCHEDULE_BATCH))
      .where(due)
      .returning('id')
      .execute();
    return rows.length;
  }

  /**
   * An account past its date that never got the last notice (the job was not running) gets a
   * new date, the last band away: a late job never shortens the warning, nor sends a message
   * naming a day already gone.
   */
  async function postponeUnwarned(at: Date): Promise<number> {
    const rows = await deps.db
      .updateTable('accounts')
      .set({ inactivity_deadline: new Date(at.getTime() + lastBand * DAY_MS) })
      .where('status', '=', 'active')
      .where('inactivity_deadline', '<=', at)
      .where((eb) => eb.not(eb.exists(noticesForDeadline(eb, 'inactivity', 'inactivity_deadline').where('account_notices.days_before', '=', lastBand))))
      .returning('id')
      .execute();
    return rows.length;
  }

  /** Midnight in Rome, to within the hour on the two days the clocks change. */
  function startOfDay(at: Date): Date {
    const parts = Object.fromEntries(
      new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Rome', hour: 'numeric', minute: 'numeric', second: 'numeric', hourCycle: 'h23' })
        .formatToParts(at).map((p) => [p.type, p.value]),
    );
    return new Date(at.getTime() - ((Number(parts.hour) * 60 + Number(parts.minute)) * 60 + Number(parts.second)) * 1000 - at.getMilliseconds());
  }

  /** Accounts past their date whose last notice is at least its days old, up to the day's limit. */
  async function makeDormant(at: Date): Promise<{ dormant: string[]; deferred: number }> {
    const noticedBy = new Date(at.getTime() - lastBand * DAY_MS + RUN_JITTER_MS);
    const result = await deps.db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(hashtext('iam:dormancy'))`.execute(trx);
      const dayStart = startOfDay(at);
      const ready = (eb: ExpressionBuilder<Database, 'accounts'>) => eb.and([
        eb('status', '=', 'active'),
        eb('inactivity_deadline', '<=', at),
        eb.exists(
          noticesForDeadline(eb, 'inactivity', 'inactivity_deadline')
            .where('account_notices.days_before', '=', lastBand)
            .where('account_notices.sent_at', '<=', noticedBy),
        ),
      ]);
      const { today } = await trx
        .selectFrom('accounts')
        .select((eb) => eb.fn.countAll<string>().as('today'))
        .where('dormant_since', '>=', dayStart)
        .where('dormant_since', '<', new Date(dayStart.getTime() + DAY_MS))
        .executeTakeFirstOrThrow();
      const room = Math.max(0, dailyLimit - Number(today));
      const rows = room === 0 ? [] : await trx
        .updateTable('accounts')
        .set({ status: 'dormant', dormant_since: at, access_revoked_at: at, updated_at: at })
        .where('id', 'in', trx.selectFrom('accounts').select('id').where(ready).orderBy('inactivity_deadline').limit(room))
        .where(ready)
        .returning(['id', 'last_active_at', 'inactivity_deadline'])
        .execute();
      for (const row of rows) {
        await deps.audit.record(
          { actorKind: 'system', subjectId: row.id, action: 'account.dormant', outcome: 'success', details: { lastActiveAt: row.last_active_at.toISOString(), deadline: row.inactivity_deadline!.toISOString(), months } },
          trx,
        );
      }
      const { left } = await trx.selectFrom('accounts').select((eb) => eb.fn.countAll<string>().as('left')).where(ready).executeTakeFirstOrThrow();
      return { dormant: rows.map((r) => r.id), deferred: Number(left) };
    });
    for (const accountId of result.dormant) {
      // refresh tokens a service still holds; nothing new can be issued to a dormant account
      await deps.revokeAccess(accountId).catch((error: unknown) => deps.logger.error({ err: error, accountId }, 'revocation after dormancy failed'));
    }
    return result;
  }

  return {
    async run(): Promise<InactivityRun> {
      const at = now();
      // dormancies first: a notice sent by this run never makes an account dormant in it
      const { dormant, deferred } = await makeDormant(at);
      const scheduled = (await schedule(at)) + (await postponeUnwarned(at));
      const sent = await notices.send(at);
      return { scheduled, notices: sent.sent, failed: sent.failed, dormant: dormant.length, deferred };
    },
  };
}
