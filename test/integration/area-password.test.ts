import { randomInt } from 'node:crypto';

import { SESSION_COOKIE } from '../../src/provider/configuration.js';
import { AREA_RISERVATA } from '../../src/services/consoles.js';
import { FormBrowser, formFields } from '../support/browser.js';
import { redeem, refreshRequest, relyingParty, signIn, submitLogin, type RelyingParty } from '../support/oidc.js';
import { startTestServer, testMiUsername, testPerson, testService, type TestServer } from '../support/server.js';

let server: TestServer;
let service: RelyingParty;

beforeAll(async () => {
  server = await startTestServer({ services: [testService({ id: 'servizio-test' })], env: { TRUST_PROXY: '1' } });
  service = await relyingParty(server.url, server.services[0]!);
});
afterAll(() => server.close());

const HOME = AREA_RISERVATA.path;
const PASSWORD = `${HOME}/password`;
const NEW_PASSWORD = 'Lavagna-Verde-2031!';
const browser = () => new FormBrowser(server.url, { 'x-forwarded-for': `198.51.${randomInt(256)}.${randomInt(1, 255)}` });

async function personAtArea(overrides: Parameters<typeof testPerson>[0] = {}) {
  const data = testPerson(overrides);
  const account = await server.deps.provisioning.provision(data);
  const b = browser();
  const home = await submitLogin(b, await b.follow(await b.get(HOME)), account.username, data.password);
  expect(home.url).toBe(`${server.url}${HOME}`);
  return { b, account, password: data.password, home };
}

/** Signed in elsewhere too: another browser holding a refresh token at a service. */
async function elsewhere(credentials: { username: string; password: string }) {
  const other = browser();
  const { start, page } = await signIn(other, service, credentials, { scope: 'openid offline_access', prompt: 'consent' });
  const tokens = await redeem(service, page.url, start);
  return { other, refreshToken: tokens.refresh_token! };
}

async function changePassword(b: FormBrowser, fields: Record<string, string>) {
  const page = await b.follow(await b.get(PASSWORD));
  const form = formFields(page.body, /\/area-riservata\/password$/);
  const { altre_sessioni: _checkbox, ...rest } = form.fields;
  return b.follow(await b.post(form.action, { ...rest, ...fields }));
}

const hashOf = async (id: string) => (await server.db.selectFrom('accounts').select('password_hash').where('id', '=', id).executeTakeFirstOrThrow()).password_hash;

describe('Area riservata: the person\'s data and password', () => {
  it('shows identity, username and both e-mails, marking the reference one', async () => {
    const { home, account } = await personAtArea({ type: 'mi', username: testMiUsername(), institutionalEmail: { address: `r.${randomInt(1e9)}@istruzione.it`, state: 'ATTIVA' } });
    for (const shown of [account.fiscalCode, account.username, account.institutionalEmail!, account.personalEmail!, 'stato della casella: ATTIVA', 'Utenza MI']) expect(home.body).toContain(shown);
    const institutional = /data-field="institutional_email">([\s\S]*?)<\/dd>/.exec(home.body)![1]!;
    expect(institutional).toContain('indirizzo di riferimento');
    expect(/data-field="personal_email">([\s\S]*?)<\/dd>/.exec(home.body)![1]).not.toContain('indirizzo di riferimento');
  });

  it('changes the password and, with the option on (the default), ends every other session and refresh token while this one stays', async () => {
    const { b, account, password } = await personAtArea();
    const { other, refreshToken } = await elsewhere({ username: account.username, password });

    const done = await changePassword(b, { current: password, next: NEW_PASSWORD, confirm: NEW_PASSWORD, altre_sessioni: 'si' });
    expect(done.response.status).toBe(200);
    expect(done.body).toContain('La password è stata cambiata. Sessioni chiuse su altri dispositivi: 1');

    expect((await b.follow(await b.get(HOME))).response.status).toBe(200);
    expect((await refreshRequest(service, refreshToken)).body.error).toBe('invalid_grant');
    const again = await signIn(other, service, { username: '', password: '' });
    expect(again.page.body).toContain('name="password"');
    expect((await signIn(browser(), service, { username: account.username, password })).page.response.status).toBe(401);
    expect((await signIn(browser(), service, { username: account.username, password: NEW_PASSWORD })).page.url).toContain('code=');
    const entries = await server.db.selectFrom('audit_log').select(['action', 'outcome']).where('subject_id', '=', account.id).where('action', 'in', ['password.changed', 'account.other_sessions_ended']).orderBy('id').execute();
    expect(entries.map((e) => `${e.action} ${e.outcome}`)).toEqual(['password.changed success', 'account.other_sessions_ended success']);
  });

  it('with the option off, the other sessions and their tokens stay', async () => {
    const { b, account, password } = await personAtArea();
    const { other, refreshToken } = await elsewhere({ username: account.username, password });
    const done = await changePassword(b, { current: password, next: NEW_PASSWORD, confirm: NEW_PASSWORD });
    expect(done.body).toContain('La password è stata cambiata.');
    expect(done.body).not.toContain('Sessioni chiuse');
    expect((await refreshRequest(service, refreshToken)).body.refresh_token).toBeDefined();
    expect((await signIn(other, service, { username: '', password: '' })).page.url).toContain('code=');
  });

  it('refuses a wrong current password, a weak or mismatched new one, a form without its token and a stale sign-in, changing nothing', async () => {
    const { b, account, password } = await personAtArea();
    const before = await hashOf(account.id);
    const wrong = await changePassword(b, { current: 'Non-E-Questa-1!', next: NEW_PASSWORD, confirm: NEW_PASSWORD, altre_sessioni: 'si' });
    expect(wrong.response.status).toBe(422);
    expect(wrong.body).toContain('id="current-error"');
    const weak = await changePassword(b, { current: password, next: 'corta', confirm: 'corta' });
    expect(weak.response.status).toBe(422);
    expect(weak.body).toContain('id="next-error"');
    expect(weak.body).not.toContain('value="corta"');
    const mismatch = await changePassword(b, { current: password, next: NEW_PASSWORD, confirm: `${NEW_PASSWORD}x` });
    expect(mismatch.response.status).toBe(400);
    expect(mismatch.body).toContain('id="confirm-error"');
    expect((await b.post(PASSWORD, { current: password, next: NEW_PASSWORD, confirm: NEW_PASSWORD })).status).toBe(403);

    const page = await b.follow(await b.get(PASSWORD));
    const form = formFields(page.body, /\/area-riservata\/password$/);
    const session = await server.provider.Session.find(b.cookie(SESSION_COOKIE)!);
    session!.loginTs! -= 3600;
    await session!.save(3600);
    const stale = await b.post(form.action, { ...form.fields, current: password, next: NEW_PASSWORD, confirm: NEW_PASSWORD });
    expect(stale.status).toBe(303);
    expect(stale.headers.get('location')).toContain('prompt=login');
    expect(await hashOf(account.id)).toBe(before);
  });

  it('lists the recent sign-ins and failed attempts, newest first, with the service and the address', async () => {
    const data = testPerson();
    const account = await server.deps.provisioning.provision(data);
    const guesser = new FormBrowser(server.url, { 'x-forwarded-for': '203.0.113.77' });
    await signIn(guesser, service, { username: account.username, password: 'Sbagliata-1!' });
    await signIn(guesser, service, { username: account.username, password: 'Sbagliata-2!' });
    const b = new FormBrowser(server.url, { 'x-forwarded-for': '198.51.100.9' });
    await submitLogin(b, await b.follow(await b.get(HOME)), account.username, data.password);
    const page = await b.follow(await b.get(`${HOME}/attivita`));
    expect(page.response.status).toBe(200);
    const rows = [...page.body.matchAll(/<tr data-outcome="(\w+)"><td>[^<]+<\/td><td>([^<]+)<\/td><td>([^<]+)<\/td><td>([^<]+)<\/td><\/tr>/g)].map((m) => [m[1], m[2], m[3], m[4]]);
    expect(rows).toEqual([
      ['success', 'Area riservata', '198.51.100.9', 'accesso riuscito'],
      ['failure', 'Servizio servizio-test', '203.0.113.77', 'password errata'],
      ['failure', 'Servizio servizio-test', '203.0.113.77', 'password errata'],
    ]);
  });
});
