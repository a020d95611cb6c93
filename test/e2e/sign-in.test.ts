import type { Browser } from 'playwright-core';
import { t } from '../../src/i18n/index.js';
import { testPerson } from '../support/server.js';
import { DemoRpPage } from './pages/demo-rp-page.js';
import { LoginPage } from './pages/login-page.js';
import { LogoutPage } from './pages/logout-page.js';
import { openTab } from './support/browser.js';
import { startWorldAndBrowser, type World } from './support/world.js';

const REGISTRO = { id: 'registro-elettronico', name: 'Registro Elettronico' };
const PAGO = { id: 'pago-in-rete', name: 'Pago In Rete' };

let world: World;
let browser: Browser;

beforeAll(async () => {
  ({ world, browser } = await startWorldAndBrowser([REGISTRO, PAGO]));
});
afterAll(async () => {
  await Promise.allSettled([browser?.close(), world?.close()]);
});

describe('sign-in in a real browser', () => {
  it('signs in at one service, reaches a second without a password, and signs out of both', async () => {
    const person = testPerson();
    const { username } = await world.server.deps.provisioning.provision(person);
    const rpA = world.rps[REGISTRO.id]!;
    const rpB = world.rps[PAGO.id]!;
    const { context, page } = await openTab(browser);
    try {
      const serviceA = await new DemoRpPage(page, rpA).goto();
      expect(await serviceA.demoBanner.innerText())
        .toBe(`Servizio dimostrativo: simula ${REGISTRO.name} per provare l'accesso unico. Non è il servizio reale.`);
      await serviceA.startSignIn();
      const login = await new LoginPage(page).waitUntilShown();
      expect(await login.heading.innerText()).toBe(`Accedi a ${REGISTRO.name}`);
      await login.signIn(username, person.password);

      await serviceA.waitUntilSignedIn();
      expect(await serviceA.userinfoClaim('preferred_username')).toBe(username);
      expect(await serviceA.userinfoClaim('given_name')).toBe(person.givenName);
      expect(await serviceA.userinfoClaim('family_name')).toBe(person.familyName);

      // Single sign-on: the provider recognises the browser, no form is shown.
      const serviceB = await new DemoRpPage(page, rpB).goto();
      const visited: string[] = [];
      page.on('framenavigated', (frame) => { if (frame === page.mainFrame()) visited.push(frame.url()); });
      await serviceB.startSignIn();
      await serviceB.waitUntilSignedIn();
      expect(await serviceB.userinfoClaim('preferred_username')).toBe(username);
      expect(visited.filter((url) => url.includes('/interaction/'))).toEqual([]);

      // Esci at B: the provider asks, then tells every service used in the session.
      await serviceB.signOut();
      const logout = await new LogoutPage(page).waitUntilShown();
      expect(await logout.heading.innerText()).toBe(t('logout.title'));
      await logout.confirm();
      await serviceB.waitUntilSignedOut();
      expect(await serviceB.notice.innerText()).toBe(`Sei uscito da ${PAGO.name}.`);

      expect(world.rpLog.filter((line) => line.includes('rejected'))).toEqual([]);
      expect(rpA.backchannelLogouts).toEqual([expect.objectContaining({ destroyedSessions: 1 })]);
      expect(rpA.sessions.signedIn()).toHaveLength(0);
      await serviceA.goto();
      await serviceA.signInLink.waitFor();
      expect(await serviceA.signOutButton.count()).toBe(0);

      // The single-sign-on session is gone too: the next Accedi asks for the password.
      await serviceA.startSignIn();
      await new LoginPage(page).waitUntilShown();
    } finally {
      await context.close();
    }
  });

  it('keeps the username and empties the password after a wrong password', async () => {
    const person = testPerson();
    const { username } = await world.server.deps.provisioning.provision(person);
    const { context, page } = await openTab(browser);
    try {
      await new DemoRpPage(page, world.rps[REGISTRO.id]!).goto().then((rp) => rp.startSignIn());
      const login = await new LoginPage(page).waitUntilShown();
      await login.signIn(username, 'Sbagliata-Password-1!');

      expect(await login.waitForError()).toBe(t('login.invalid_credentials'));
      expect(await login.heading.innerText()).toBe(`Accedi a ${REGISTRO.name}`);
      expect(await login.username.inputValue()).toBe(username);
      expect(await login.password.inputValue()).toBe('');
      // The message does not say which of the two was wrong.
      expect(await page.locator('main').innerText()).not.toMatch(/password errata|utente inesistente/i);
    } finally {
      await context.close();
    }
  });
});
