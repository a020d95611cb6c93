import { randomInt } from 'node:crypto';

import { FormBrowser } from '../support/browser.js';
import { relyingParty, signIn } from '../support/oidc.js';
import { startTestServer, testPerson, testService, type TestServer } from '../support/server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ services: [testService({ id: 'servizio-test' })], env: { ORGANISATION_NAME: 'Ufficio Scolastico di Prova', PRIVACY_CONTACT_EMAIL: 'rpd@prova.example' } });
});
afterAll(() => server.close());

describe('the public-administration furniture', () => {
  it('links the four pages from every page\'s footer, with the configured organisation', async () => {
    const rp = await relyingParty(server.url, server.services[0]!);
    const b = new FormBrowser(server.url);
    const { page } = await signIn(b, rp, { username: '', password: '' });
    for (const href of ['/accessibilita', '/privacy', '/note-legali', '/cookie']) expect(page.body).toContain(`href="${href}"`);
    expect(page.body).toContain('Ufficio Scolastico di Prova');

    const privacy = await (await fetch(`${server.url}/privacy`)).text();
    expect(privacy).toContain('Titolare del trattamento è Ufficio Scolastico di Prova');
    expect(privacy).toContain('rpd@prova.example');
    const statement = await (await fetch(`${server.url}/accessibilita`)).text();
    for (const part of ['Stato di conformità', 'Meccanismo di feedback e recapiti', 'Procedura di attuazione']) expect(statement).toContain(part);
    expect((await fetch(`${server.url}/note-legali`)).status).toBe(200);
  });

  it('lists on the cookie page every cookie a sign-in and the recovery pages leave in the browser', async () => {
    const person = testPerson();
    const account = await server.deps.provisioning.provision(person);
    const rp = await relyingParty(server.url, server.services[0]!);
    const b = new FormBrowser(server.url, { 'x-forwarded-for': `198.51.100.${randomInt(1, 255)}` });
    await signIn(b, rp, { username: account.username, password: person.password });
    await b.follow(await b.get('/registrazione'));
    await b.follow(await b.get('/recupero/password'));
    const names = b.cookieNames().filter((n) => !n.endsWith('.sig'));
    expect(names).toEqual(expect.arrayContaining(['iam_session', 'iam_interaction', 'iam_csrf', 'iam_device']));
    const page = await (await fetch(`${server.url}/cookie`)).text();
    expect(page).toContain('solo cookie tecnici');
    for (const name of names) expect(page).toContain(`<code>${name}</code>`);
  });
});

describe('the user menu in the slim header', () => {
  it('names the signed-in person, links the Area riservata and the single logout, and keeps such a page out of shared caches', async () => {
    const person = testPerson();
    const account = await server.deps.provisioning.provision(person);
    const rp = await relyingParty(server.url, server.services[0]!);
    const b = new FormBrowser(server.url, { 'x-forwarded-for': `198.51.100.${randomInt(1, 255)}` });
    await signIn(b, rp, { username: account.username, password: person.password });
    for (const path of ['/', '/privacy', '/cookie']) {
      const page = await b.follow(await b.get(path));
      const menu = /<nav class="it-header-slim-right-zone iam-user-menu"[\s\S]*?<\/nav>/.exec(page.body)?.[0] ?? '';
      expect(menu).toContain(`${account.givenName} ${account.familyName}`);
      expect(menu).toContain('href="/area-riservata"');
      expect(menu).toContain('href="/session/end?client_id=area-riservata"');
      expect(page.response.headers.get('cache-control')).toMatch(/no-store/);
    }
    const anonymous = await fetch(`${server.url}/privacy`);
    expect(anonymous.headers.get('cache-control')).toBe('public, max-age=3600');
    expect(await anonymous.text()).not.toContain('iam-user-menu');
  });
});
