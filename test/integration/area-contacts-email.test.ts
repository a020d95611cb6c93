import { randomInt } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { AREA_RISERVATA } from '../../src/services/consoles.js';
import { SESSION_COOKIE } from '../../src/provider/configuration.js';
import { FormBrowser, formFields } from '../support/browser.js';
import { messagesTo } from '../support/outbox.js';
import { client, redeem, relyingParty, signIn, submitLogin, type RelyingParty } from '../support/oidc.js';
import { startTestServer, testPerson, testService, type TestServer } from '../support/server.js';

let server: TestServer;
let service: RelyingParty;
let outbox: string;

beforeAll(async () => {
  outbox = join(mkdtempSync(join(tmpdir(), 'iam-area-')), 'outbox');
  server = await startTestServer({ services: [testService({ id: 'servizio-recapiti' })], env: { DATA_DIR: join(outbox, '..'), TRUST_PROXY: '1' } });
  service = await relyingParty(server.url, server.services[0]!);
});
afterAll(() => server.close());

const HOME = AREA_RISERVATA.path;
const CONTACTS = `${HOME}/recapiti`;
const EMAIL = `${HOME}/email`;
const browser = () => new FormBrowser(server.url, { 'x-forwarded-for': `198.51.${randomInt(256)}.${randomInt(1, 255)}` });

async function personAtArea() {
  const data = testPerson();
  const account = await server.deps.provisioning.provision(data);
  const b = browser();
  await submitLogin(b, await b.follow(await b.get(HOME)), account.username, data.password);
  return { b, account, password: data.password };
}

async function submitForm(b: FormBrowser, page: string, action: RegExp, fields: Record<string, string>) {
  const form = formFields((await b.follow(await b.get(page))).body, action);
  return b.follow(await b.post(form.action, { ...form.fields, ...fields }));
}

const accountRow = (id: string) => server.db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
const auditOf = (id: string, action: string) => server.db.selectFrom('audit_log').select(['outcome', 'details']).where('subject_id', '=', id).where('action', '=', action).orderBy('id').execute();

async function mailTo(address: string) {
  await server.deps.outgoingMail.drain();
  return messagesTo(outbox, address);
}

async function codeSentTo(address: string): Promise<string> {
  const code = /\b(\d{6})\b/.exec((await mailTo(address)).at(-1)?.text ?? '')?.[1];
  if (!code) throw new Error(`no code for ${address}`);
  return code;
}

async function userinfoAfterSignIn(credentials: { username: string; password: string }, b = browser()) {
  const { start, page } = await signIn(b, service, credentials, { scope: 'openid email phone address' });
  const tokens = await redeem(service, page.url, start);
  return client.fetchUserInfo(service.config, tokens.access_token, client.skipSubjectCheck);
}

const CONTACTS_OK = { mobile: '333 123 4567', home_phone: '06 1234 5678', street: 'Via Roma 1', postal_code: '00184', country: 'IT', province: 'RM', comune: 'roma' };

describe('Area riservata: contact data (Variazione dati di recapito)', () => {
  it('stores phones in E.164 and the comune by its ISTAT spelling, audits before and after, and every service sees them at once in userinfo', async () => {
    const { b, account, password } = await personAtArea();
    const saved = await submitForm(b, CONTACTS, /\/recapiti$/, CONTACTS_OK);
    expect(saved.response.status).toBe(200);
    expect(saved.body).toContain('Recapiti aggiornati');
    const row = await accountRow(account.id);
    expect(row).toMatchObject({ mobile_phone: '+393331234567', home_phone: '+390612345678', street_address: 'Via Roma 1', postal_code: '00184', country: 'IT', province: 'RM', municipality: 'Roma' });
    const [entry] = await auditOf(account.id, 'account.contact_data_changed');
    expect(entry!.details).toMatchObject({ before: { mobilePhone: null, municipality: null }, after: { mobilePhone: '+393331234567', municipality: 'Roma' } });

    const info = await userinfoAfterSignIn({ username: account.username, password });
    expect(info.phone_number).toBe('+393331234567');
    expect(info.address).toEqual({ street_address: 'Via Roma 1', postal_code: '00184', locality: 'Roma', region: 'RM', country: 'IT' });

    const home = await b.follow(await b.get(HOME));
    expect(home.body).toContain('+39 333 123 4567');
    expect(home.body).toContain('Via Roma 1, 00184 Roma (RM), Italia');

    // an address abroad: a locality, no province
    const abroad = await submitForm(b, CONTACTS, /\/recapiti$/, { mobile: '', home_phone: '', street: '10 Rue de Rivoli', postal_code: '75001', country: 'FR', province: '', comune: 'Paris' });
    expect(abroad.response.status).toBe(200);
    expect(await accountRow(account.id)).toMatchObject({ mobile_phone: null, home_phone: null, country: 'FR', province: null, municipality: 'Paris' });
  });

  it('refuses a bad phone, an unknown comune, a province abroad and a form without its token, keeping the form and changing nothing', async () => {
    const { b, account } = await personAtArea();
    const bad = await submitForm(b, CONTACTS, /\/recapiti$/, { ...CONTACTS_OK, mobile: '12345', comune: 'Milano' });
    expect(bad.response.status).toBe(400);
    expect(bad.body).toContain('id="mobile-error"');
    expect(bad.body).toContain('Non esiste un comune con questo nome nella provincia scelta.');
    expect(bad.body).toContain('value="Milano"');
    expect(bad.body).toContain('value="Via Roma 1"');
    const landlineAsMobile = await submitForm(b, CONTACTS, /\/recapiti$/, { ...CONTACTS_OK, mobile: '06 1234 5678' });
    expect(landlineAsMobile.body).toContain('id="mobile-error"');
    const abroad = await submitForm(b, CONTACTS, /\/recapiti$/, { ...CONTACTS_OK, country: 'FR' });
    expect(abroad.body).toContain('La provincia si indica solo per una residenza in Italia.');
    const unknownCountry = await submitForm(b, CONTACTS, /\/recapiti$/, { ...CONTACTS_OK, country: 'XX' });
    expect(unknownCountry.body).toContain('id="country-error"');
    expect((await b.post(CONTACTS, CONTACTS_OK)).status).toBe(403);
    expect(await accountRow(account.id)).toMatchObject({ mobile_phone: null, municipality: null, street_address: null });
    expect(await auditOf(account.id, 'account.contact_data_changed')).toEqual([]);
  });
});

describe('Area riservata: personal e-mail change', () => {
  it('confirms the new address with the code sent to it, tells the old one, audits both addresses, and userinfo shows it at once', async () => {
    const { b, account, password } = await personAtArea();
    const old = account.personalEmail!;
    const fresh = `nuovo.${randomInt(1e9)}@example.org`;
    const codePage = await submitForm(b, EMAIL, /\/email$/, { email: fresh });
    expect(codePage.url).toBe(`${server.url}${EMAIL}/codice`);
    expect(codePage.body).toContain(fresh);
    const code = await codeSentTo(fresh);
    expect((await mailTo(fresh)).at(-1)!.text).not.toContain(password);

    const done = await submitForm(b, `${EMAIL}/codice`, /\/email\/codice$/, { code });
    expect(done.response.status).toBe(200);
    expect(done.body).toContain(`E-mail personale cambiata in ${fresh}`);
    expect(await accountRow(account.id)).toMatchObject({ personal_email: fresh, personal_email_verified: true });
    const notices = await mailTo(old);
    expect(notices.at(-1)!.subject).toBe('L\'e-mail personale della tua utenza è cambiata');
    expect(notices.at(-1)!.text).toContain(fresh);
    const entries = await auditOf(account.id, 'account.email_changed');
    expect(entries).toEqual([{ outcome: 'success', details: { before: old, after: fresh } }]);
    expect(JSON.stringify(await auditOf(account.id, 'account.email_change_requested'))).not.toContain(code);

    const info = await userinfoAfterSignIn({ username: account.username, password });
    expect(info).toMatchObject({ email: fresh, email_verified: true });
  });

  it('refuses an institutional or malformed address, a wrong code (five tries in all, even in a burst), and a stale sign-in', async () => {
    const { b, account } = await personAtArea();
    const institutional = await submitForm(b, EMAIL, /\/email$/, { email: 'mario.rossi@istruzione.it' });
    expect(institutional.response.status).toBe(400);
    expect(institutional.body).toContain('value="mario.rossi@istruzione.it"');
    expect(institutional.body).toContain('id="email-error"');
    expect((await submitForm(b, EMAIL, /\/email$/, { email: 'non-un-indirizzo' })).response.status).toBe(400);

    const fresh = `burst.${randomInt(1e9)}@example.org`;
    await submitForm(b, EMAIL, /\/email$/, { email: fresh });
    const right = await codeSentTo(fresh);
    const wrong = String((Number(right) + 1) % 1_000_000).padStart(6, '0');
    const form = formFields((await b.follow(await b.get(`${EMAIL}/codice`))).body, /\/email\/codice$/);
    const answers = await Promise.all(Array.from({ length: 8 }, () => b.post(form.action, { ...form.fields, code: wrong })));
    expect(answers.every((a) => a.status === 422)).toBe(true);
    const tried = await auditOf(account.id, 'account.email_changed');
    expect(tried.filter((e) => e.outcome === 'failure')).toHaveLength(5);
    // spent: even the right code no longer changes the address
    const late = await b.follow(await b.post(form.action, { ...form.fields, code: right }));
    expect(late.body).toContain('Troppi tentativi errati');
    expect((await accountRow(account.id)).personal_email).toBe(account.personalEmail);

    const session = await server.provider.Session.find(b.cookie(SESSION_COOKIE)!);
    session!.loginTs! -= 3600;
    await session!.save(3600);
    const stale = await b.get(EMAIL);
    expect(stale.status).toBe(303);
    expect(stale.headers.get('location')).toContain('prompt=login');
  });

  it('a second request within a minute waits; the same address again sends a new code that replaces the first', async () => {
    const { b } = await personAtArea();
    const fresh = `again.${randomInt(1e9)}@example.org`;
    await submitForm(b, EMAIL, /\/email$/, { email: fresh });
    const again = await submitForm(b, `${EMAIL}/codice`, /\/email$/, { email: fresh });
    expect(again.response.status).toBe(429);
    expect(again.body).toContain('attendi');
    expect(await mailTo(fresh)).toHaveLength(1);
  });
});

describe('Area riservata: the e-mail at every sign-in (AgID Regolamento, art. 18)', () => {
  it('once switched on, each sign-in with the password sends date, service, address and browser with a link to the sessions; switched off, none', async () => {
    const { b, account, password } = await personAtArea();
    expect((await b.post(`${HOME}/attivita/avviso`, { avviso: 'si' })).status).toBe(403);
    const on = await submitForm(b, `${HOME}/attivita`, /\/attivita\/avviso$/, {});
    expect(on.body).toContain('Avviso attivato');
    expect((await accountRow(account.id)).sign_in_notice).toBe(true);

    const phone = new FormBrowser(server.url, { 'x-forwarded-for': '203.0.113.45', 'user-agent': 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1' });
    const before = (await mailTo(account.personalEmail!)).length;
    await signIn(phone, service, { username: account.username, password });
    const notices = (await mailTo(account.personalEmail!)).slice(before);
    expect(notices).toHaveLength(1);
    expect(notices[0]!.subject).toBe('Nuovo accesso alla tua utenza');
    for (const shown of ['Servizio servizio-recapiti', '203.0.113.45', 'Safari 17', 'iOS', `${server.url}/area-riservata/sessioni`]) expect(notices[0]!.text).toContain(shown);

    const off = await submitForm(b, `${HOME}/attivita`, /\/attivita\/avviso$/, {});
    expect(off.body).toContain('Avviso disattivato');
    await signIn(new FormBrowser(server.url, { 'x-forwarded-for': '203.0.113.46' }), service, { username: account.username, password });
    expect((await mailTo(account.personalEmail!)).slice(before)).toHaveLength(1);
    const entries = await auditOf(account.id, 'account.sign_in_notice_changed');
    expect(entries.map((e) => e.details)).toEqual([{ before: false, after: true }, { before: true, after: false }]);
  });
});
