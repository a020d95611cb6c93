import type { Browser } from 'playwright-core';
import { policyRules, SPID_LEVEL_1_POLICY } from '../../src/accounts/password-policy.js';
import { t, type MessageKey } from '../../src/i18n/index.js';
import { testPerson } from '../support/server.js';
import { axeViolations, describeViolations } from './support/axe.js';
import { DemoRpPage } from './pages/demo-rp-page.js';
import { LoginPage } from './pages/login-page.js';
import { PasswordChangePage } from './pages/password-change-page.js';
import { openTab } from './support/browser.js';
import { startWorldAndBrowser, type World } from './support/world.js';

const PAGO = { id: 'pago-in-rete', name: 'Pago In Rete' };

let world: World;
let browser: Browser;

beforeAll(async () => {
  ({ world, browser } = await startWorldAndBrowser([PAGO]));
});
afterAll(async () => {
  await Promise.allSettled([browser?.close(), world?.close()]);
});

describe('an expired password in a real browser', () => {
  it('shows the change page with the rules, names a broken rule, then continues to the service', async () => {
    const person = testPerson();
    const account = await world.server.deps.provisioning.provision(person);
    await world.server.db.updateTable('accounts').set({ password_expires_at: new Date(Date.now() - 1000) }).where('id', '=', account.id).execute();
    // axe is injected as a script: the page's CSP would refuse it
    const { context, page } = await openTab(browser, { bypassCSP: true });
    try {
      const service = await new DemoRpPage(page, world.rps[PAGO.id]!).goto();
      await service.startSignIn();
      await new LoginPage(page).waitUntilShown().then((login) => login.signIn(account.username, person.password));

      const change = await new PasswordChangePage(page).waitUntilShown();
      expect(await change.heading.innerText()).toBe(t('gate.password_change.title'));
      expect(await change.message.innerText()).toBe(t('gate.password_change.password_expired'));
      expect(await change.rules.allInnerTexts()).toEqual(policyRules(SPID_LEVEL_1_POLICY).map((r) => t(`password.rule.${r.name}` as MessageKey, r.vars)));
      const violations = await axeViolations(page);
      expect(describeViolations('password change page', violations)).toBe(describeViolations('password change page', []));

      await change.change(person.password, 'lavagnaverde7!');
      expect(await change.waitForError()).toBe(t('password.rule_broken', { rule: t('password.rule.upper') }));

      await change.change(person.password, 'Lavagna-Verde-7');
      await service.waitUntilSignedIn();
      expect(await service.userinfoClaim('preferred_username')).toBe(account.username);
    } finally {
      await context.close();
    }
  });
});
