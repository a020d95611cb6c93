import { randomInt } from 'node:crypto';
import * as jose from 'jose';

import { AREA_RISERVATA } from '../../src/services/consoles.js';
import { SESSION_COOKIE } from '../../src/provider/configuration.js';
import { FormBrowser, formFields } from '../support/browser.js';
import { startLogoutReceiver, type LogoutReceiver } from '../support/logout-receiver.js';
import { redeem, refreshRequest, relyingParty, signIn, submitLogin, type RelyingParty } from '../support/oidc.js';
import { startTestServer, testPerson, testService, type TestServer } from '../support/server.js';

let server: TestServer;
let receiver: LogoutReceiver;
let service: RelyingParty;
let other: RelyingParty;

beforeAll(async () => {
  receiver = await startLogoutReceiver();
  server = await startTestServer({
    services: [testService({ id: 'servizio-sessioni', backchannelLogoutUri: `${receiver.url}/sessioni` }), testService({ id: 'servizio-altro' })],
    env: { TRUST_PROXY: '1' },
  });
  service = await relyingParty(server.url, server.services[0]!);
  other = await relyingParty(server.url, server.services[1]!);
});
afterAll(async () => {
  await server.close();
  receiver.close();
});

const HOME = AREA_RISERVATA.path;
const SESSIONS = `${HOME}/sessioni`;
const SERVICES = `${HOME}/servizi`;
const FIREFOX = 'Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0';
const browser = (userAgent?: string) => new FormBrowser(server.url, { 'x-forwarded-for': `198.51.${randomInt(256)}.${randomInt(1, 255)}`, ...(userAgent ? { 'user-agent': userAgent } : {}) });

/** A person signed in at the service in a phone's browser (with a refresh token), then at the Area riservata in another. */
async function twoBrowsers() {
  const data = testPerson();
  const account = await server.deps.provisioning.provision(data);
  const credentials = { username: account.username, password: data.password };
  const phone = browser(FIREFOX);
  const { start, page } = await signIn(phone, service, credentials, { scope: 'openid offline_access', prompt: 'consent' });
  const tokens = await redeem(service, page.url, start);
  const desk = browser();
  await submitLogin(desk, await desk.follow(await desk.get(HOME)), account.username, data.password);
  return { account, credentials, phone, desk, refreshToken: tokens.refresh_token! };
}

async function post(b: FormBrowser, page: string, action: RegExp, fields: Record<string, string>) {
  const form = formFields((await b.follow(await b.get(page))).body, action);
  return b.follow(await b.post(form.action, { ...form.fields, ...fields }));
}

const handlesIn = (body: string) => [...body.matchAll(/name="session" value="([^"]+)"/g)].map((m) => m[1]!);

describe('Area riservata: the session ledger', () => {
  it('lists both sessions with browser, device and address, the current one marked; ending the other signs it out at its next request, kills its refresh token and tells its service', async () => {
    const { account, phone, desk, refreshToken } = await twoBrowsers();
    const list = await desk.follow(await desk.get(SESSIONS));
    expect(list.response.status).toBe(200);
    expect(list.body.match(/data-session="current"/g)).toHaveLength(1);
    expect(list.body.match(/data-session="other"/g)).toHaveLength(1);
    expect(list.body).toContain('Firefox 133 · Android');
    expect(list.body).toContain('smartphone');
    expect(list.body).toContain('Servizio servizio-sessioni');
    const [handle] = handlesIn(list.body);

    receiver.tokens.length = 0;
    const done = await post(desk, SESSIONS, /\/sessioni\/termina$/, { session: handle! });
    expect(done.response.status).toBe(200);
    expect(done.body).toContain('Sessione terminata');
    expect(done.body).not.toContain('data-session="other"');

    const again = await signIn(phone, service, { username: '', password: '' });
    expect(again.page.body).toContain('name="password"');
    expect((await refreshRequest(service, refreshToken)).body.error).toBe('invalid_grant');
    expect(receiver.tokens).toHaveLength(1);
    expect(jose.decodeJwt(receiver.tokens[0]!.token).sub).toBe(account.id);
    expect((await desk.follow(await desk.get(HOME))).response.status).toBe(200);
    const entries = await server.db.selectFrom('audit_log').select(['action']).where('subject_id', '=', account.id).where('action', '=', 'account.session_ended').execute();
    expect(entries).toHaveLength(1);
  });

  it('an ended session stays ended even when that browser was using it at the same moment', async () => {
    const { phone, desk } = await twoBrowsers();
    const form = formFields((await desk.follow(await desk.get(SESSIONS))).body, /\/sessioni\/termina$/);
    // a request of the phone has read its session, and saves it once the desk has ended it
    const underWay = (await server.provider.Session.find(phone.cookie(SESSION_COOKIE)!))!;
    expect((await desk.post(form.action, form.fields)).status).toBe(200);
    underWay.authorizations = { ...underWay.authorizations, [other.service.id]: { sid: 'in-flight' } };
    await underWay.save(3600);
    expect(await server.provider.Session.find(phone.cookie(SESSION_COOKIE)!)).toBeUndefined();
    expect((await signIn(phone, other, { username: '', password: '' })).page.body).toContain('name="password"');
  });

  it('ends all the other sessions at once, this one staying', async () => {
    const { phone, desk, credentials } = await twoBrowsers();
    const third = browser();
    await signIn(third, other, credentials);
    const done = await post(desk, SESSIONS, /\/termina-altre$/, {});
    expect(done.body).toContain('Sessioni terminate: 2.');
    expect(done.body).toContain('Non ci sono altre sessioni attive.');
    for (const b of [phone, third]) expect((await signIn(b, other, { username: '', password: '' })).page.body).toContain('name="password"');
    expect((await desk.follow(await desk.get(SESSIONS))).response.status).toBe(200);
  });

  it("refuses another account's session, its own current session, a form without its token and a stale sign-in, ending nothing", async () => {
    const victim = await twoBrowsers();
    const victimHandles = handlesIn((await victim.desk.follow(await victim.desk.get(SESSIONS))).body);
    const { desk, phone } = await twoBrowsers();
    const refused = await post(desk, SESSIONS, /\/sessioni\/termina$/, { session: victimHandles[0]! });
    expect(refused.response.status).toBe(404);
    expect(refused.body).toContain('Questa sessione non esiste o è già terminata.');
    expect((await signIn(victim.phone, service, { username: '', password: '' })).page.url).toContain('code=');

    const own = (await server.provider.Session.find(desk.cookie(SESSION_COOKIE)!))!.uid;
    expect((await post(desk, SESSIONS, /\/sessioni\/termina$/, { session: own })).response.status).toBe(404);
    const [handle] = handlesIn((await desk.follow(await desk.get(SESSIONS))).body);
    expect((await desk.post(`${SESSIONS}/termina`, { session: handle! })).status).toBe(403);

    const form = formFields((await desk.follow(await desk.get(SESSIONS))).body, /\/sessioni\/termina$/);
    const session = await server.provider.Session.find(desk.cookie(SESSION_COOKIE)!);
    session!.loginTs! -= 3600;
    await session!.save(3600);
    const stale = await desk.post(form.action, { ...form.fields });
    expect(stale.status).toBe(303);
    expect(stale.headers.get('location')).toContain('prompt=login');
    expect((await signIn(phone, service, { username: '', password: '' })).page.url).toContain('code=');
  });
});

describe('Area riservata: the services used', () => {
  it('lists the service with its data and dates; revoking it kills its refresh token and tells it', async () => {
    const { account, desk, refreshToken } = await twoBrowsers();
    const list = await desk.follow(await desk.get(SERVICES));
    expect(list.body).toContain('data-service="servizio-sessioni"');
    expect(list.body).toContain('accesso anche quando non sei collegato');
    expect(list.body).not.toContain(`data-service="${AREA_RISERVATA.clientId}"`);

    receiver.tokens.length = 0;
    const done = await post(desk, SERVICES, /\/servizi\/revoca$/, { service: 'servizio-sessioni' });
    expect(done.response.status).toBe(200);
    expect(done.body).toContain('Accesso revocato a Servizio servizio-sessioni.');
    expect(done.body).not.toContain('data-service="servizio-sessioni"');
    expect((await refreshRequest(service, refreshToken)).body.error).toBe('invalid_grant');
    expect(receiver.tokens.map((t) => jose.decodeJwt(t.token).sub)).toEqual([account.id]);
    const entries = await server.db.selectFrom('audit_log').select(['action', 'client_id']).where('subject_id', '=', account.id).where('action', '=', 'account.service_revoked').execute();
    expect(entries).toEqual([{ action: 'account.service_revoked', client_id: 'servizio-sessioni' }]);
  });

  it("refuses a service the account holds no grant to (another account's), changing nothing", async () => {
    const victim = await twoBrowsers();
    const { desk } = await twoBrowsers();
    const form = formFields((await desk.follow(await desk.get(SERVICES))).body, /\/servizi\/revoca$/);
    await desk.post(form.action, form.fields);
    // the grant now exists only for the other account
    const refused = await desk.follow(await desk.post(form.action, form.fields));
    expect(refused.response.status).toBe(404);
    expect(refused.body).toContain('Questo servizio non ha accesso alla tua utenza.');
    expect((await desk.post(form.action, { ...form.fields, service: AREA_RISERVATA.clientId })).status).toBe(404);
    expect((await refreshRequest(service, victim.refreshToken)).body.refresh_token).toBeDefined();
  });
});
