import { randomInt } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAuditLog } from '../../src/audit/audit-log.js';
import { loadConfig } from '../../src/config.js';
import { createInactivityJob, type InactivityPolicy } from '../../src/jobs/inactivity.js';
import { createLogger } from '../../src/logger.js';
import { createMailRenderer } from '../../src/mail/templates.js';
import { createMailer } from '../../src/mail/transport.js';
import type { NewAccount } from '../../src/accounts/provisioning.js';
import { FormBrowser, formFields } from '../support/browser.js';
import { redeem, refreshRequest, relyingParty, signIn, submitLogin, type RelyingParty } from '../support/oidc.js';
import { messagesTo, readOutbox } from '../support/outbox.js';
import { startTestServer, testMiUsername, testPerson, testService, type TestServer } from '../support/server.js';

const DAY = 24 * 60 * 60 * 1000;
const HOUR = 60 * 60 * 1000;
const POLICY: InactivityPolicy = { months: 24, noticeDays: [90, 30, 10, 1], dailyLimit: 1000 };

let server: TestServer;
let rp: RelyingParty;
let serverOutbox: string;

beforeAll(async () => {
  serverOutbox = join(mkdtempSync(join(tmpdir(), 'iam-inactivity-')), 'outbox');
  server = await startTestServer({
    services: [testService({ id: 'servizio-inattivo', name: 'Servizio Inattività' })],
    env: { DATA_DIR: join(serverOutbox, '..'), TRUST_PROXY: '1' },
  });
  rp = await relyingParty(server.url, server.services[0]!);
});
afterAll(() => server.close());

/** The inactivity job on this server's database, with an outbox of its own and a clock the test moves. */
function jobAt(outbox: string, clock: { now: Date }, policy: InactivityPolicy = POLICY) {
  return createInactivityJob({
    db: server.db,
    mailer: createMailer({ from: 'IAM Istruzione <noreply@istruzione.it>', outboxDir: outbox }),
    render: createMailRenderer(loadConfig({})),
    audit: createAuditLog(server.db),
    logger: createLogger('silent'),
    policy,
    revokeAccess: server.deps.revokeAccess,
    now: () => clock.now,
  });
}

const browserAt = () => new FormBrowser(server.url, { 'x-forwarded-for': `198.51.${randomInt(256)}.${randomInt(1, 255)}` });

async function newAccount(overrides: Partial<NewAccount> = {}) {
  const person = testPerson(overrides);
  const account = await server.deps.provisioning.provision(person);
  const email = person.institutionalEmail?.address ?? person.personalEmail!;
  return { ...account, password: person.password, email };
}

/** Last signed in at `at` (the column a sign-in writes). */
const lastActiveAt = (id: string, at: Date) =>
  server.db.updateTable('accounts').set({ last_active_at: at, inactivity_deadline: null }).where('id', '=', id).execute();

const monthsBefore = (at: Date, months: number, plusDays = 0) => {
  const d = new Date(at);
  d.setUTCMonth(d.getUTCMonth() - months);
  return new Date(d.getTime() + plusDays * DAY);
};

const row = (id: string) =>
  server.db.selectFrom('accounts').select(['status', 'inactivity_deadline', 'last_active_at', 'dormant_since']).where('id', '=', id).executeTakeFirstOrThrow();

const subjectsTo = (outbox: string, address: string) => messagesTo(outbox, address).map((m) => m.subject);

const audit = (subjectId: string, action: string) =>
  server.db.selectFrom('audit_log').select(['outcome', 'details']).where('subject_id', '=', subjectId).where('action', '=', action).orderBy('id').execute();

async function submit(browser: FormBrowser, page: { body: string }, action: RegExp, fields: Record<string, string>) {
  const form = formFields(page.body, action);
  return browser.follow(await browser.post(form.action, { ...form.fields, ...fields }));
}

describe('inactivity (AgID Regolamento art. 20)', () => {
  it('sends the notices at 90, 30, 10 and 1 days, each once, then makes the account dormant; a sign-in starts over', async () => {
    const outbox = mkdtempSync(join(tmpdir(), 'iam-inactivity-'));
    const base = new Date();
    const clock = { now: base };

    const dueIn60 = await newAccount();
    const longGone = await newAccount();
    const notYet = await newAccount();
    const suspended = await newAccount();
    const comesBack = await newAccount();
    const mi = await newAccount({ type: 'mi', username: testMiUsername(), institutionalEmail: { address: `mi.${randomInt(1e9)}@istruzione.it`, state: 'ATTIVA' } });

    // longGone holds a refresh token from its last sign-in
    const browser = browserAt();
    const { start, page } = await signIn(browser, rp, longGone, { scope: 'openid offline_access', prompt: 'consent' });
    const tokens = await redeem(rp, page.url, start);
    expect(tokens.refresh_token).toBeDefined();

    await lastActiveAt(dueIn60.id, monthsBefore(base, 24, 60));
    await lastActiveAt(longGone.id, monthsBefore(base, 30));
    await lastActiveAt(notYet.id, monthsBefore(base, 24, 120));
    await lastActiveAt(suspended.id, monthsBefore(base, 30));
    await server.db.updateTable('accounts').set({ status: 'suspended' }).where('id', '=', suspended.id).execute();
    await lastActiveAt(comesBack.id, monthsBefore(base, 25));
    await lastActiveAt(mi.id, monthsBefore(base, 26));

    const first = await jobAt(outbox, clock).run();
    await Promise.all([jobAt(outbox, clock).run(), jobAt(outbox, clock).run()]); // again, and from two instances at once
    expect(first.scheduled).toBeGreaterThanOrEqual(4);
    expect(first.notices[90]).toBeGreaterThanOrEqual(4);

    // everyone found inside 90 days (or past the date) gets all four notices: the date is at least 90 days away
    for (const account of [dueIn60, longGone, comesBack, mi]) {
      expect(subjectsTo(outbox, account.email)).toEqual(['La tua utenza sarà disattivata tra 90 giorni per inattività']);
      expect((await row(account.id)).inactivity_deadline!.getTime()).toBe(base.getTime() + 90 * DAY);
    }
    expect(subjectsTo(outbox, notYet.email)).toEqual([]);
    expect(subjectsTo(outbox, suspended.email)).toEqual([]);
    const standardText = messagesTo(outbox, dueIn60.email)[0]!.text;
    expect(standardText).toContain(`l'utenza ${dueIn60.username} non è stata usata`);
    expect(standardText).toContain('Password dimenticata?');
    expect(messagesTo(outbox, mi.email)[0]!.text).toContain('Responsabile della sicurezza');

    // comesBack signs in: the date goes, and no further notice follows
    const back = await signIn(browserAt(), rp, comesBack);
    expect(back.page.url).toContain('code=');
    const afterSignIn = await row(comesBack.id);
    expect(afterSignIn.inactivity_deadline).toBeNull();
    expect(afterSignIn.last_active_at.getTime()).toBeGreaterThan(base.getTime() - 60_000);

    for (const [days, subject] of [
      [60, 'La tua utenza sarà disattivata tra 30 giorni per inattività'],
      [80, 'La tua utenza sarà disattivata tra 10 giorni per inattività'],
      [89, 'La tua utenza sarà disattivata domani per inattività'],
    ] as const) {
      clock.now = new Date(base.getTime() + days * DAY + HOUR);
      await jobAt(outbox, clock).run();
      await jobAt(outbox, clock).run();
      expect(subjectsTo(outbox, dueIn60.email).at(-1)).toBe(subject);
    }
    expect(subjectsTo(outbox, dueIn60.email)).toHaveLength(4);
    expect(subjectsTo(outbox, comesBack.email)).toHaveLength(1);
    expect((await row(dueIn60.id)).status).toBe('active');

    // the day after the last notice: dormant, once
    clock.now = new Date(base.getTime() + 90 * DAY + HOUR);
    const [a, b] = await Promise.all([jobAt(outbox, clock).run(), jobAt(outbox, clock).run()]);
    expect(a.dormant + b.dormant).toBeGreaterThanOrEqual(3);
    for (const account of [dueIn60, longGone, mi]) {
      expect((await row(account.id)).status).toBe('dormant');
      expect(await audit(account.id, 'account.dormant')).toHaveLength(1);
      expect((await audit(account.id, 'account.inactivity_notice')).map((e) => e.details.daysBefore)).toEqual([90, 30, 10, 1]);
    }
    expect((await row(comesBack.id)).status).toBe('active');
    expect((await row(notYet.id)).status).toBe('active');

    // what a service held is gone
    const refreshed = await refreshRequest(rp, tokens.refresh_token!);
    expect(refreshed.status).toBe(400);
    expect(refreshed.body.error).toBe('invalid_grant');
  });

  it('shows a dormant account the way back, and Password dimenticata? brings it back without an office visit', async () => {
    const account = await newAccount();
    await server.db.updateTable('accounts').set({ status: 'dormant', dormant_since: new Date('2020-01-01T00:00:00Z') }).where('id', '=', account.id).execute();

    // a wrong password says nothing of the state
    const wrong = await signIn(browserAt(), rp, { username: account.username, password: 'Sbagliata-Password-9' });
    expect(wrong.page.body).toContain('Username o password non corretti');
    expect(wrong.page.body).not.toContain('disattivata');

    const browser = browserAt();
    const right = await signIn(browser, rp, account);
    expect(right.page.response.status).toBe(403);
    expect(right.page.body).toContain('La tua utenza è stata disattivata perché non è stata usata per molto tempo');
    const forgot = /href="(\/recupero\/password\?interazione=[\w-]+)"/.exec(right.page.body)?.[1];
    expect(forgot).toBeDefined();

    const form = await browser.follow(await browser.get(forgot!));
    const sent = await submit(browser, form, /\/recupero\/password$/, { username: account.username, codice_fiscale: account.fiscalCode });
    expect(sent.body).toContain('Controlla la tua e-mail');
    await server.deps.outgoingMail.drain();
    const link = /https?:\/\/\S+\/recupero\/password\/nuova\?token=[\w-]+/.exec(messagesTo(serverOutbox, account.email).at(-1)!.text)![0];
    const reset = await browser.follow(await browser.get(link));
    const done = await submit(browser, reset, /\/recupero\/password\/nuova$/, { next: 'Lavagna-Verde-7', confirm: 'Lavagna-Verde-7' });
    expect(done.body).toContain('Password cambiata');

    const now = await row(account.id);
    expect(now.status).toBe('active');
    expect(now.last_active_at.getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect(await audit(account.id, 'account.reactivated')).toEqual([{ outcome: 'success', details: { reason: 'new_password', previous: 'dormant' } }]);
    // the way back leads to the service's sign-in again: its session ended with the new password
    const back = /<a class="btn btn-primary" href="([^"]+)">Accedi a Servizio Inattività<\/a>/.exec(done.body)?.[1];
    expect(back).toBeDefined();
    const login = await browser.follow(await browser.get(back!.replace(/&amp;/g, '&')));
    expect(login.body).toContain('name="password"');
    const signedIn = await submitLogin(browser, login, account.username, 'Lavagna-Verde-7');
    expect(signedIn.url).toContain('code=');
    expect((await redeem(rp, signedIn.url, right.start)).claims()?.sub).toBe(account.id);
  });

  it('makes no more accounts dormant in one day than the limit, whatever the number of instances', async () => {
    const outbox = mkdtempSync(join(tmpdir(), 'iam-inactivity-'));
    // a day of its own, far from the other tests' clocks (the database may be shared)
    const day = new Date(Date.now() + (400 + randomInt(200)) * DAY);
    const clock = { now: day };
    const ready = await Promise.all([newAccount(), newAccount(), newAccount()]);
    for (const account of ready) {
      const deadline = new Date(day.getTime() - HOUR);
      await server.db.updateTable('accounts').set({ last_active_at: monthsBefore(deadline, 24), inactivity_deadline: deadline }).where('id', '=', account.id).execute();
      await server.db.insertInto('account_notices').values({ account_id: account.id, kind: 'inactivity', due_at: deadline, days_before: 1, sent_at: new Date(deadline.getTime() - DAY) }).execute();
    }
    const limited = { ...POLICY, dailyLimit: 2 };
    const runs = await Promise.all([jobAt(outbox, clock, limited).run(), jobAt(outbox, clock, limited).run(), jobAt(outbox, clock, limited).run()]);
    expect(runs.reduce((n, r) => n + r.dormant, 0)).toBe(2);
    const statuses = await Promise.all(ready.map(async (a) => (await row(a.id)).status));
    expect(statuses.filter((s) => s === 'dormant')).toHaveLength(2);
    expect(Math.max(...runs.map((r) => r.deferred))).toBeGreaterThanOrEqual(1);

    clock.now = new Date(day.getTime() + DAY);
    expect((await jobAt(outbox, clock, limited).run()).dormant).toBeGreaterThanOrEqual(1);
    expect(await Promise.all(ready.map(async (a) => (await row(a.id)).status))).toEqual(['dormant', 'dormant', 'dormant']);
  });

  it('never makes an account dormant whose last notice has not had its day', async () => {
    const outbox = mkdtempSync(join(tmpdir(), 'iam-inactivity-'));
    const clock = { now: new Date(Date.now() + (700 + randomInt(200)) * DAY) };
    const account = await newAccount();
    const deadline = new Date(clock.now.getTime() - DAY);
    // past its date, but the job was not running: no notice went out yet
    await server.db.updateTable('accounts').set({ last_active_at: monthsBefore(deadline, 24), inactivity_deadline: deadline }).where('id', '=', account.id).execute();
    const first = await jobAt(outbox, clock).run();
    expect(first.notices[1]).toBeGreaterThanOrEqual(1);
    expect(subjectsTo(outbox, account.email)).toEqual(['La tua utenza sarà disattivata domani per inattività']);
    // the date moved to tomorrow: the message never names a day already gone
    expect((await row(account.id)).inactivity_deadline!.getTime()).toBe(clock.now.getTime() + DAY);
    expect((await row(account.id)).status).toBe('active');

    clock.now = new Date(clock.now.getTime() + DAY);
    await jobAt(outbox, clock).run();
    expect((await row(account.id)).status).toBe('dormant');
    expect(readOutbox(outbox).filter((m) => m.to === account.email)).toHaveLength(1);
  });

  it('keeps sign-ins cheap: an account signed in within the last hours is not written again', async () => {
    const account = await newAccount();
    await signIn(browserAt(), rp, account);
    const first = (await row(account.id)).last_active_at;
    await new Promise((resolve) => setTimeout(resolve, 5));
    await signIn(browserAt(), rp, account);
    expect((await row(account.id)).last_active_at).toEqual(first);
  });
});
