import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAuditLog } from '../../src/audit/audit-log.js';
import { createPasswordReminders } from '../../src/jobs/password-reminders.js';
import { createLogger } from '../../src/logger.js';
import { loadConfig } from '../../src/config.js';
import { createMailRenderer } from '../../src/mail/templates.js';
import { createMailer } from '../../src/mail/transport.js';
import { readOutbox } from '../support/outbox.js';
import { startTestServer, testPerson, type TestServer } from '../support/server.js';

const DAY = 24 * 60 * 60 * 1000;
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

/** The reminder job on this server's database, writing to an outbox of its own, at a chosen time. */
function remindersAt(outbox: string, clock: { now: Date }) {
  return createPasswordReminders({
    db: server.db,
    mailer: createMailer({ from: 'IAM Istruzione <noreply@istruzione.it>', outboxDir: outbox }),
    render: createMailRenderer(loadConfig({})),
    audit: createAuditLog(server.db),
    logger: createLogger('silent'),
    daysBefore: [14, 7, 2],
    now: () => clock.now,
  });
}

const messages = (outbox: string) => readOutbox(outbox).map((m) => ({ to: m.to, subject: m.subject, body: m.html }));

async function accountExpiringIn(days: number, changes: { temporary?: boolean; suspended?: boolean } = {}) {
  const person = testPerson();
  const account = await server.deps.provisioning.provision(person);
  await server.db
    .updateTable('accounts')
    .set({ password_expires_at: new Date(Date.now() + days * DAY), password_temporary: changes.temporary ?? false, status: changes.suspended ? 'suspended' : 'active' })
    .where('id', '=', account.id)
    .execute();
  return { id: account.id, email: person.personalEmail! };
}

const noticesFor = (ids: string[]) =>
  server.db.selectFrom('account_notices').select(['account_id', 'days_before']).where('account_id', 'in', ids).orderBy('days_before').execute();

describe('password expiry reminders', () => {
  it('send each reminder once, in the band the account is in, and none to the rest', async () => {
    const outbox = mkdtempSync(join(tmpdir(), 'iam-reminders-'));
    const clock = { now: new Date() };
    const in1 = await accountExpiringIn(1.5);
    const in5 = await accountExpiringIn(5);
    const in10 = await accountExpiringIn(10);
    const in20 = await accountExpiringIn(20);
    const temporary = await accountExpiringIn(3, { temporary: true });
    const suspended = await accountExpiringIn(3, { suspended: true });
    const mine = [in1, in5, in10, in20, temporary, suspended];
    const job = remindersAt(outbox, clock);

    await job.run();
    await job.run(); // a second run sends nothing again
    const sent = messages(outbox).filter((m) => mine.some((a) => a.email === m.to));
    expect(sent.map((m) => m.to).sort()).toEqual([in1.email, in5.email, in10.email].sort());
    expect(sent.find((m) => m.to === in10.email)!.subject).toBe('La tua password scade tra 10 giorni');
    expect(sent.find((m) => m.to === in1.email)!.subject).toBe('La tua password scade tra 2 giorni');
    expect(sent[0]!.body).toContain('non verrà bloccata');
    expect(await noticesFor(mine.map((a) => a.id))).toEqual(
      expect.arrayContaining([
        { account_id: in1.id, days_before: 2 },
        { account_id: in5.id, days_before: 7 },
        { account_id: in10.id, days_before: 14 },
      ]),
    );

    // four days later the 10-day account enters the 7-day band: one more message, once
    clock.now = new Date(clock.now.getTime() + 4 * DAY);
    await Promise.all([job.run(), remindersAt(outbox, clock).run()]); // two instances at once
    const later = messages(outbox).filter((m) => m.to === in10.email);
    expect(later.map((m) => m.subject).sort()).toEqual(['La tua password scade tra 10 giorni', 'La tua password scade tra 6 giorni']);
    expect(messages(outbox).filter((m) => m.to === in5.email)).toHaveLength(2); // 5 days → now 1 day: the 2-day band
    expect(messages(outbox).filter((m) => m.to === in20.email || m.to === temporary.email || m.to === suspended.email)).toEqual([]);

    const audited = await server.db.selectFrom('audit_log').select('details').where('subject_id', '=', in10.id).where('action', '=', 'password.expiry_reminder').execute();
    expect(audited.map((a) => a.details.daysBefore).sort()).toEqual([14, 7]);
  });

  it('tries again at the next run when a message could not go', async () => {
    const clock = { now: new Date() };
    const account = await accountExpiringIn(6);
    const blocked = join(mkdtempSync(join(tmpdir(), 'iam-reminders-')), 'not-a-dir');
    // the outbox path is a file: writing a message there fails
    await import('node:fs/promises').then((fs) => fs.writeFile(blocked, 'x'));
    const failing = await remindersAt(blocked, clock).run();
    expect(failing.failed).toBeGreaterThanOrEqual(1);
    expect(await noticesFor([account.id])).toEqual([]);

    const outbox = mkdtempSync(join(tmpdir(), 'iam-reminders-'));
    await remindersAt(outbox, clock).run();
    expect(messages(outbox).filter((m) => m.to === account.email)).toHaveLength(1);
  });
});
