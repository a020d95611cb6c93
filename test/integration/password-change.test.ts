import { FormBrowser, formFields } from '../support/browser.js';
import { authorizationUrl, redeem, relyingParty, signIn, startAuthorization, submitLogin, type RelyingParty } from '../support/oidc.js';
import { startTestServer, testPerson, testService, type TestServer } from '../support/server.js';

let server: TestServer;
let rp: RelyingParty;
const password = 'Corretta-Password-1!';
const DAY = 24 * 60 * 60 * 1000;

beforeAll(async () => {
  server = await startTestServer({ services: [testService({ id: 'servizio-pw' })] });
  rp = await relyingParty(server.url, server.services[0]!);
});
afterAll(() => server.close());

async function accountWith(changes: { expired?: boolean; password?: string } = {}) {
  const person = testPerson(changes.password ? { password: changes.password } : {});
  const account = await server.deps.provisioning.provision(person);
  if (changes.expired) {
    await server.db.updateTable('accounts').set({ password_expires_at: new Date(Date.now() - DAY) }).where('id', '=', account.id).execute();
  }
  return { ...account, password: person.password };
}

/** Signs in and returns the page the sign-in stops at, with its browser. */
async function signInTo(credentials: { username: string; password: string }, params: Record<string, string> = {}) {
  const browser = new FormBrowser(server.url);
  const { start, page } = await signIn(browser, rp, credentials, params);
  return { browser, start, page };
}

async function submitChange(browser: FormBrowser, page: { body: string }, fields: Record<string, string>) {
  const form = formFields(page.body, /\/gate$/);
  return browser.follow(await browser.post(form.action, { ...form.fields, ...fields }));
}

const audit = (subjectId: string, action: string) =>
  server.db.selectFrom('audit_log').select(['outcome', 'details']).where('subject_id', '=', subjectId).where('action', '=', action).execute();

describe('an expired password', () => {
  it('is changed on the way to the service, every broken rule named, then the sign-in completes', async () => {
    const account = await accountWith({ expired: true });
    const { browser, start, page } = await signInTo(account);
    expect(page.response.status).toBe(200);
    expect(page.body).toContain('La tua password è scaduta');
    expect(page.body).toContain('da 8 a 128 caratteri');
    expect(page.body).toContain('name="current"');

    const wrongCurrent = await submitChange(browser, page, { current: 'Sbagliata-1!', next: 'Lavagna-Verde-7', confirm: 'Lavagna-Verde-7' });
    expect(wrongCurrent.response.status).toBe(422);
    expect(wrongCurrent.body).toContain('La password attuale non è corretta.');

    const weak = await submitChange(browser, wrongCurrent, { current: account.password, next: 'lavagna', confirm: 'lavagna' });
    expect(weak.response.status).toBe(422);
    for (const rule of ['da 8 a 128 caratteri', 'almeno una lettera maiuscola', 'almeno un numero', 'almeno un carattere speciale']) {
      expect(weak.body).toContain(`La password non rispetta questa regola: ${rule}`);
    }
    expect(weak.body).not.toContain('value="lavagna"');

    const mismatch = await submitChange(browser, weak, { current: account.password, next: 'Lavagna-Verde-7', confirm: 'Lavagna-Verde-8' });
    expect(mismatch.response.status).toBe(400);
    expect(mismatch.body).toContain('Le due password non coincidono.');

    const trivial = await submitChange(browser, mismatch, { current: account.password, next: 'corretta-password-2?', confirm: 'corretta-password-2?' });
    expect(trivial.response.status).toBe(422);
    expect(trivial.body).toContain('deve essere diversa dalla password attuale');

    const done = await submitChange(browser, trivial, { current: account.password, next: 'Lavagna-Verde-7', confirm: 'Lavagna-Verde-7' });
    expect(done.url).toContain('code=');
    const tokens = await redeem(rp, done.url, start);
    expect(tokens.claims()?.sub).toBe(account.id);

    const row = await server.db.selectFrom('accounts').select(['password_expires_at', 'password_noncompliant']).where('id', '=', account.id).executeTakeFirstOrThrow();
    const days = (row.password_expires_at!.getTime() - Date.now()) / DAY;
    expect(days).toBeGreaterThan(120);
    expect(days).toBeLessThanOrEqual(180);
    expect(await audit(account.id, 'password.changed')).toEqual(expect.arrayContaining([
      { outcome: 'failure', details: { reason: 'expired', problem: 'wrong_current' } },
      { outcome: 'success', details: { reason: 'expired' } },
    ]));

    // the old password is gone, the new one signs in straight to the service
    expect((await signInTo(account)).page.body).toContain('Username o password non corretti');
    expect((await signInTo({ username: account.username, password: 'Lavagna-Verde-7' })).page.url).toContain('code=');
  });

  it('refuses any of the last five passwords', async () => {
    const account = await accountWith();
    let current = account.password;
    const used = ['Lavagna-Verde-1a', 'Quaderno-Blu-2b', 'Matita-Rossa-3c'];
    for (const next of used) {
      expect(await server.deps.passwords.change(account.id, { current, next, reason: 'voluntary', from: {} })).toMatchObject({ ok: true });
      current = next;
    }
    await server.db.updateTable('accounts').set({ password_expires_at: new Date(Date.now() - DAY) }).where('id', '=', account.id).execute();
    const { browser, page } = await signInTo({ username: account.username, password: current });
    for (const old of [account.password, 'Lavagna-Verde-1a']) {
      const again = await submitChange(browser, page, { current, next: old, confirm: old });
      expect(again.response.status).toBe(422);
      expect(again.body).toContain('non deve essere una delle ultime 5 password né una usata negli ultimi 15 mesi');
    }
  });

  it('answers prompt=none with interaction_required', async () => {
    const account = await accountWith({ expired: true });
    const { browser, page } = await signInTo(account);
    expect(page.body).toContain('name="next"');
    const silent = await startAuthorization(browser, await authorizationUrl(rp, { prompt: 'none' }));
    expect(new URL(silent.url).searchParams.get('error')).toBe('interaction_required');
  });

  it('refuses the change form without its CSRF token', async () => {
    const account = await accountWith({ expired: true });
    const { browser, page } = await signInTo(account);
    const hash = () => server.db.selectFrom('accounts').select('password_hash').where('id', '=', account.id).executeTakeFirstOrThrow();
    const before = await hash();
    const form = formFields(page.body, /\/gate$/);
    const response = await browser.post(form.action, { current: account.password, next: 'Lavagna-Verde-7', confirm: 'Lavagna-Verde-7' });
    expect(response.status).toBe(403);
    expect(await hash()).toEqual(before);
    expect(await audit(account.id, 'password.changed')).toEqual([]);
  });
});

describe('a temporary password', () => {
  it('is born expired, asks no current password, works once and then never again', async () => {
    const account = await accountWith();
    const { password: temporary } = (await server.deps.passwords.setTemporary(account.id, { kind: 'system' }))!;
    expect(await audit(account.id, 'password.temporary_set')).toHaveLength(1);

    const { browser, page } = await signInTo({ username: account.username, password: temporary });
    expect(page.body).toContain('password temporanea');
    expect(page.body).not.toContain('name="current"');
    // a second sign-in with it, even before the change, is refused: it works once
    const second = await signInTo({ username: account.username, password: temporary });
    expect(second.page.response.status).toBe(403);
    expect(second.page.body).toContain('La password temporanea è già stata usata');

    const same = await submitChange(browser, page, { next: temporary, confirm: temporary });
    expect(same.response.status).toBe(422);
    const done = await submitChange(browser, same, { next: 'Lavagna-Verde-7', confirm: 'Lavagna-Verde-7' });
    expect(done.url).toContain('code=');
    expect(await audit(account.id, 'password.changed')).toEqual([{ outcome: 'success', details: { reason: 'temporary' } }]);
  });

  it('is refused after 72 hours with its own message', async () => {
    const account = await accountWith();
    const { password: temporary } = (await server.deps.passwords.setTemporary(account.id, { kind: 'system' }))!;
    await server.db.updateTable('accounts').set({ password_changed_at: new Date(Date.now() - 73 * 60 * 60 * 1000) }).where('id', '=', account.id).execute();
    const { page } = await signInTo({ username: account.username, password: temporary });
    expect(page.response.status).toBe(403);
    expect(page.body).toContain('La password temporanea è scaduta');
    expect(page.body).not.toContain('name="next"');
  });

  it('works once even when several sign-ins use it at the same moment', async () => {
    const account = await accountWith();
    const { password: temporary } = (await server.deps.passwords.setTemporary(account.id, { kind: 'system' }))!;
    const browsers = await Promise.all([0, 1, 2, 3].map(async () => {
      const browser = new FormBrowser(server.url);
      return { browser, page: await startAuthorization(browser, await authorizationUrl(rp)) };
    }));
    const results = await Promise.all(browsers.map(({ browser, page }) => submitLogin(browser, page, account.username, temporary)));
    expect(results.filter((r) => r.body.includes('name="next"'))).toHaveLength(1);
    expect(results.filter((r) => r.response.status === 403)).toHaveLength(3);
  });
});

describe('a password that no longer meets the policy', () => {
  it('is noticed on the typed password at sign-in and changed before the service opens', async () => {
    const account = await accountWith({ password: 'annaverde-lavagna7A!' }); // contains the given name
    const { browser, page } = await signInTo(account);
    expect(page.body).toContain('non rispetta più le regole di sicurezza');
    const done = await submitChange(browser, page, { current: account.password, next: 'Lavagna-Verde-7', confirm: 'Lavagna-Verde-7' });
    expect(done.url).toContain('code=');
    expect(await audit(account.id, 'password.changed')).toEqual([{ outcome: 'success', details: { reason: 'noncompliant' } }]);
  });
});
