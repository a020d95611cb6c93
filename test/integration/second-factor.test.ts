import { randomInt } from 'node:crypto';

import { ACR } from '../../src/accounts/acr.js';
import { FormBrowser, formFields } from '../support/browser.js';
import { codeAt, recoveryCodesOn, secretOn, sendCode } from '../support/second-factor.js';
import { authorizationUrl, redeem, relyingParty, signIn, startAuthorization, submitLogin, type RelyingParty } from '../support/oidc.js';
import { startTestServer, testMiUsername, testPerson, testService, type TestServer } from '../support/server.js';

let server: TestServer;
let sidi: RelyingParty;
let other: RelyingParty;

beforeAll(async () => {
  server = await startTestServer({
    services: [testService({ id: 'sidi-test', name: 'SIDI Test' }), testService({ id: 'altro-servizio', name: 'Altro Servizio' })],
    env: { TRUST_PROXY: '1' },
  });
  sidi = await relyingParty(server.url, server.services[0]!);
  other = await relyingParty(server.url, server.services[1]!);
});
afterAll(() => server.close());

const browser = () => new FormBrowser(server.url, { 'x-forwarded-for': `198.51.${randomInt(256)}.${randomInt(1, 255)}` });

async function officer() {
  const person = testPerson({ type: 'mi', username: testMiUsername(), schools: [{ schoolCode: `RMIC${randomInt(10000, 99999)}X`, role: 'dsga', securityOfficer: true }] });
  const account = await server.deps.provisioning.provision(person);
  return { id: account.id, username: account.username, password: person.password };
}

/** Password accepted: the page the second factor shows. */
async function afterPassword(b: FormBrowser, rp: RelyingParty, credentials: { username: string; password: string }, params: Record<string, string> = {}) {
  const start = await authorizationUrl(rp, params);
  const page = await submitLogin(b, await startAuthorization(b, start), credentials.username, credentials.password);
  return { start, page };
}

describe('second factor', () => {
  it('makes an officer enrol inside the sign-in, then says so in the ID token; the SSO session carries it to the next service', async () => {
    const account = await officer();
    const b = browser();
    const { start, page } = await afterPassword(b, sidi, account);
    expect(page.response.status).toBe(200);
    expect(page.body).toContain('Attiva la verifica in due passaggi');
    expect(page.body).toContain('Come Responsabile della sicurezza');
    expect(page.body).toMatch(/<svg[^>]*>[\s\S]*<\/svg>/);
    const secret = secretOn(page.body)!;
    const codes = recoveryCodesOn(page.body);
    expect(codes).toHaveLength(10);

    // a wrong code: the same enrolment is shown again
    const wrong = await sendCode(b, page, '000000');
    expect(wrong.response.status).toBe(422);
    expect(wrong.body).toContain('Il codice non è corretto');
    expect(secretOn(wrong.body)).toBe(secret);
    expect(recoveryCodesOn(wrong.body)).toEqual(codes);

    const done = await sendCode(b, wrong, await codeAt(secret));
    expect(done.url).toContain('code=');
    const tokens = await redeem(sidi, done.url, start);
    expect(tokens.claims()).toMatchObject({ acr: ACR.otp, amr: ['pwd', 'otp'] });

    // the secret is sealed at rest
    const row = await server.db.selectFrom('second_factors').select(['secret', 'confirmed_at']).where('account_id', '=', account.id).executeTakeFirstOrThrow();
    expect(row.confirmed_at).not.toBeNull();
    expect(JSON.stringify(row.secret)).not.toContain(secret);

    // another service, same browser: no second code
    expect((await signIn(b, other, { username: '', password: '' })).page.url).toContain('code=');
  });

  it('asks an enrolled officer for a code at every new sign-in, and never takes one twice', async () => {
    const account = await officer();
    const first = browser();
    const enrol = await afterPassword(first, sidi, account);
    const secret = secretOn(enrol.page.body)!;
    const codes = recoveryCodesOn(enrol.page.body);
    const used = await codeAt(secret);
    expect((await sendCode(first, enrol.page, used)).url).toContain('code=');

    const second = browser();
    const { page } = await afterPassword(second, sidi, account);
    expect(page.body).toContain('Verifica in due passaggi');
    expect(page.body).not.toContain('<svg');
    // the code of the enrolment, again: refused
    const replay = await sendCode(second, page, used);
    expect(replay.response.status).toBe(422);
    // a recovery code works once
    expect((await sendCode(second, replay, codes[3]!.toUpperCase())).url).toContain('code=');
    const third = browser();
    const again = await afterPassword(third, sidi, account);
    expect((await sendCode(third, again.page, codes[3]!)).response.status).toBe(422);
    // the next step's code is taken
    expect((await sendCode(third, again.page, await codeAt(secret, 30))).url).toContain('code=');
    const audit = await server.db.selectFrom('audit_log').select(['action', 'outcome', 'details']).where('subject_id', '=', account.id).where('action', 'like', 'second_factor.%').orderBy('id').execute();
    expect(audit.map((e) => `${e.action} ${e.outcome}`)).toEqual([
      'second_factor.enrolled success',
      'second_factor.verify failure',
      'second_factor.verify success',
      'second_factor.verify failure',
      'second_factor.verify success',
    ]);
  });

  it('stops guessing: of a burst of wrong codes only five are tried, then even the right code waits', async () => {
    const account = await officer();
    const b = browser();
    const enrol = await afterPassword(b, sidi, account);
    const secret = secretOn(enrol.page.body)!;
    expect((await sendCode(b, enrol.page, await codeAt(secret))).url).toContain('code=');

    const guesser = browser();
    const { page } = await afterPassword(guesser, sidi, account);
    const form = formFields(page.body, /\/gate$/);
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => guesser.post(form.action, { ...form.fields, code: String(100000 + i) })));
    expect(answers.filter((a) => a.status === 422)).toHaveLength(5);
    expect(answers.filter((a) => a.status === 429)).toHaveLength(7);
    const right = await sendCode(guesser, page, await codeAt(secret, 30));
    expect(right.response.status).toBe(429);
    expect(right.body).toContain('Troppi codici errati');
    const failures = await server.db.selectFrom('audit_log').select('id').where('subject_id', '=', account.id).where('action', '=', 'second_factor.verify').where('outcome', '=', 'failure').execute();
    expect(failures).toHaveLength(5);
  });

  it('fires when a service asks with acr_values, even for an account with no factor; never otherwise', async () => {
    const person = testPerson();
    const account = await server.deps.provisioning.provision(person);
    const plain = await signIn(browser(), other, { username: account.username, password: person.password });
    expect(plain.page.url).toContain('code=');

    const b = browser();
    const { page } = await afterPassword(b, other, { username: account.username, password: person.password }, { acr_values: ACR.otp });
    expect(page.body).toContain('Il servizio richiede la verifica in due passaggi');
    expect(secretOn(page.body)).toBeDefined();

    const discovery = await (await fetch(`${server.url}/.well-known/openid-configuration`)).json() as { acr_values_supported: string[] };
    expect(discovery.acr_values_supported).toEqual(expect.arrayContaining([ACR.password, ACR.otp]));
  });
});
