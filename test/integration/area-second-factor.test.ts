import { randomInt } from 'node:crypto';

import { SESSION_COOKIE } from '../../src/provider/configuration.js';
import { AREA_RISERVATA } from '../../src/services/consoles.js';
import { FormBrowser, formFields } from '../support/browser.js';
import { relyingParty, signIn, submitLogin, type RelyingParty } from '../support/oidc.js';
import { codeAt, recoveryCodesOn, secretOn, sendCode } from '../support/second-factor.js';
import { startTestServer, testMiUsername, testPerson, testService, type TestServer } from '../support/server.js';

let server: TestServer;
let service: RelyingParty;

beforeAll(async () => {
  server = await startTestServer({ services: [testService({ id: 'servizio-test' })], env: { TRUST_PROXY: '1' } });
  service = await relyingParty(server.url, server.services[0]!);
});
afterAll(() => server.close());

const PAGE = `${AREA_RISERVATA.path}/verifica-in-due-passaggi`;
const browser = () => new FormBrowser(server.url, { 'x-forwarded-for': `198.51.${randomInt(256)}.${randomInt(1, 255)}` });

async function signedInToArea(options: { officer?: boolean } = {}) {
  const data = options.officer
    ? testPerson({ type: 'mi', username: testMiUsername(), schools: [{ schoolCode: `RMIC${randomInt(10000, 99999)}X`, role: 'ds', securityOfficer: true }] })
    : testPerson();
  const account = await server.deps.provisioning.provision(data);
  const b = browser();
  const login = await b.follow(await b.get(PAGE));
  expect(login.url).toContain('/interaction/');
  const page = await submitLogin(b, login, account.username, data.password);
  return { b, account, password: data.password, page };
}

/** The SSO session grows old: its sign-in moved back by an hour. */
async function ageSession(b: FormBrowser) {
  const session = await server.provider.Session.find(b.cookie(SESSION_COOKIE)!);
  session!.loginTs! -= 3600;
  await session!.save(3600);
}

async function enrol(b: FormBrowser) {
  const page = await b.follow(await b.get(`${PAGE}/attiva`));
  const secret = secretOn(page.body)!;
  const codes = recoveryCodesOn(page.body);
  const form = formFields(page.body, /\/attiva$/);
  const done = await b.follow(await b.post(form.action, { ...form.fields, code: await codeAt(secret) }));
  return { secret, codes, done };
}

describe('Area riservata: the second factor', () => {
  it('signs in through the provider and back to the page; switches the factor on, which the next sign-in then asks for', async () => {
    const { b, account, password, page } = await signedInToArea();
    expect(page.url).toBe(`${server.url}${PAGE}`);
    expect(page.body).toContain('Non attiva.');
    expect(page.body).toContain(`${account.givenName} ${account.familyName}`);

    const wrong = await b.follow(await b.get(`${PAGE}/attiva`));
    const form = formFields(wrong.body, /\/attiva$/);
    const refused = await b.follow(await b.post(form.action, { ...form.fields, code: '000000' }));
    expect(refused.response.status).toBe(422);
    expect(secretOn(refused.body)).toBe(secretOn(wrong.body));

    const { secret, codes, done } = await enrol(b);
    expect(done.response.status).toBe(200);
    expect(done.body).toContain('La verifica in due passaggi è attiva');
    expect(done.body).toContain('Codici di recupero ancora utilizzabili: 10 su 10');
    expect(codes).toHaveLength(10);

    const next = await signIn(browser(), service, { username: account.username, password });
    expect(next.page.body).toContain('Inserisci il codice di 6 cifre');
    const other = browser();
    const again = await signIn(other, service, { username: account.username, password });
    expect((await sendCode(other, again.page, await codeAt(secret, 30))).url).toContain('code=');
  });

  it('new recovery codes replace the old ones', async () => {
    const { b, account, password } = await signedInToArea();
    const { codes } = await enrol(b);
    const page = await b.follow(await b.get(PAGE));
    const form = formFields(page.body, /\/codici$/);
    const fresh = await b.follow(await b.post(form.action, form.fields));
    const replaced = recoveryCodesOn(fresh.body);
    expect(replaced).toHaveLength(10);
    expect(replaced).not.toContain(codes[0]);

    const oldOne = browser();
    const first = await signIn(oldOne, service, { username: account.username, password });
    expect((await sendCode(oldOne, first.page, codes[0]!)).response.status).toBe(422);
    const newOne = browser();
    const second = await signIn(newOne, service, { username: account.username, password });
    expect((await sendCode(newOne, second.page, replaced[0]!)).url).toContain('code=');
    const audit = await server.db.selectFrom('audit_log').select('action').where('subject_id', '=', account.id).where('action', '=', 'second_factor.recovery_codes_regenerated').execute();
    expect(audit).toHaveLength(1);
  });

  it('switching it off takes a fresh sign-in with the code, then the page again; afterwards the password alone signs in', async () => {
    const { b, account, password } = await signedInToArea();
    const { secret } = await enrol(b);
    await ageSession(b);

    const stale = await b.get(`${PAGE}/disattiva`);
    expect(stale.status).toBe(303);
    expect(stale.headers.get('location')).toContain('prompt=login');
    const login = await b.follow(stale);
    const factor = await submitLogin(b, login, account.username, password);
    expect(factor.body).toContain('Inserisci il codice di 6 cifre');
    const confirm = await sendCode(b, factor, await codeAt(secret, 30));
    expect(confirm.url).toBe(`${server.url}${PAGE}/disattiva`);
    const form = formFields(confirm.body, /\/disattiva$/);
    const off = await b.follow(await b.post(form.action, form.fields));
    expect(off.body).toContain('è stata disattivata');
    expect(off.body).toContain('Non attiva.');

    expect((await signIn(browser(), service, { username: account.username, password })).page.url).toContain('code=');
  });

  it('a stale session posting a change is sent to sign in again and nothing changes', async () => {
    const { b, account } = await signedInToArea();
    await enrol(b);
    const page = await b.follow(await b.get(PAGE));
    const form = formFields(page.body, /\/codici$/);
    await ageSession(b);
    const answer = await b.post(form.action, form.fields);
    expect(answer.status).toBe(303);
    expect(answer.headers.get('location')).toContain('prompt=login');
    const audit = await server.db.selectFrom('audit_log').select('action').where('subject_id', '=', account.id).where('action', '=', 'second_factor.recovery_codes_regenerated').execute();
    expect(audit).toHaveLength(0);
  });

  it('an officer cannot switch it off, neither from the page nor by posting the form', async () => {
    const { b, account, page } = await signedInToArea({ officer: true });
    // an officer enrols inside the sign-in
    const home = await sendCode(b, page, await codeAt(secretOn(page.body)!));
    expect(home.body).toContain('è obbligatoria');
    expect(home.body).not.toContain('/disattiva"');
    const refused = await b.follow(await b.get(`${PAGE}/disattiva`));
    expect(refused.response.status).toBe(409);
    const csrf = formFields(home.body, /\/codici$/).fields;
    const posted = await b.follow(await b.post(`${PAGE}/disattiva`, csrf));
    expect(posted.response.status).toBe(409);
    const factor = await server.db.selectFrom('second_factors').select('confirmed_at').where('account_id', '=', account.id).executeTakeFirst();
    expect(factor?.confirmed_at).not.toBeNull();
  });
});
