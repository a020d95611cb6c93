import type { Browser } from 'playwright-core';
import { t, type MessageKey } from '../../src/i18n/index.js';
import { testPerson } from '../support/server.js';
import { ConsentPage } from './pages/consent-page.js';
import { DemoRpPage } from './pages/demo-rp-page.js';
import { LoginPage } from './pages/login-page.js';
import { RefusalPage } from './pages/refusal-page.js';
import { openTab } from './support/browser.js';
import { startWorldAndBrowser, type World } from './support/world.js';

const SIDI = { id: 'sidi', name: 'SIDI', acceptedAccountTypes: ['mi' as const] };
const ESTERNO = { id: 'biblioteca-digitale', name: 'Biblioteca Digitale', firstParty: false };

let world: World;
let browser: Browser;

beforeAll(async () => {
  ({ world, browser } = await startWorldAndBrowser([SIDI, ESTERNO]));
});
afterAll(async () => {
  await Promise.allSettled([browser?.close(), world?.close()]);
});

describe('gates after the password, in a real browser', () => {
  it('refuses a standard account at a service for MI accounts and goes back with access_denied', async () => {
    const person = testPerson();
    const { username } = await world.server.deps.provisioning.provision(person);
    const sidi = world.rps[SIDI.id]!;
    const { context, page } = await openTab(browser);
    try {
      await new DemoRpPage(page, sidi).goto().then((rp) => rp.startSignIn());
      await new LoginPage(page).waitUntilShown().then((login) => login.signIn(username, person.password));

      const refusal = await new RefusalPage(page).waitUntilShown();
      expect(await refusal.heading.innerText()).toBe(t('gate.service_access.title', { service: SIDI.name }));
      const message = await refusal.message.innerText();
      expect(message).toContain(t('account_type.mi'));
      expect(message).toContain(username);

      await refusal.returnToService();
      const service = new DemoRpPage(page, sidi);
      expect(await service.waitForProviderError()).toBe('access_denied');
      expect(sidi.sessions.signedIn()).toHaveLength(0);
    } finally {
      await context.close();
    }
  });

  it('asks consent for a service not run by the Ministry, then returns signed in', async () => {
    const person = testPerson();
    const { username } = await world.server.deps.provisioning.provision(person);
    const esterno = world.rps[ESTERNO.id]!;
    const { context, page } = await openTab(browser);
    try {
      await new DemoRpPage(page, esterno).goto().then((rp) => rp.startSignIn());
      await new LoginPage(page).waitUntilShown().then((login) => login.signIn(username, person.password));

      const consent = await new ConsentPage(page).waitUntilShown();
      expect(await consent.heading.innerText()).toBe(t('consent.title', { service: ESTERNO.name }));
      // every claim the service will receive, named in Italian under its scope
      const claims = (keys: MessageKey[]) => keys.map((key) => t(key)).join(', ');
      expect(await consent.requestedData()).toEqual([
        t('consent.scope_claims', {
          scope: t('scope.profile'),
          claims: claims(['claim.given_name', 'claim.family_name', 'claim.name', 'claim.preferred_username', 'claim.birthdate', 'claim.gender', 'claim.account_type']),
        }),
        t('consent.scope_claims', { scope: t('scope.email'), claims: claims(['claim.email', 'claim.email_verified']) }),
      ]);
      await consent.accept();

      const service = await new DemoRpPage(page, esterno).waitUntilSignedIn();
      expect(await service.userinfoClaim('preferred_username')).toBe(username);
      expect(await service.userinfoClaim('email')).toBe(person.personalEmail);
    } finally {
      await context.close();
    }
  });
});
