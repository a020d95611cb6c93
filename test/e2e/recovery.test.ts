import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { policyRules, SPID_LEVEL_1_POLICY } from '../../src/accounts/password-policy.js';
import { t, type MessageKey } from '../../src/i18n/index.js';
import { messagesTo } from '../support/outbox.js';
import { testPerson } from '../support/server.js';
import { DemoRpPage } from './pages/demo-rp-page.js';
import { LoginPage } from './pages/login-page.js';
import { NewPasswordPage, PasswordRecoveryPage, RecoveryMessagePage } from './pages/recovery-pages.js';
import { axeViolations, describeViolations } from './support/axe.js';
import { openTab } from './support/browser.js';
import { startWorldAndBrowser, type World } from './support/world.js';

const PAGO = { id: 'pago-in-rete', name: 'Pago In Rete' };

let world: World;
let browser: Browser;
const dataDir = mkdtempSync(join(tmpdir(), 'iam-e2e-recovery-'));

beforeAll(async () => {
  ({ world, browser } = await startWorldAndBrowser([PAGO], { env: { DATA_DIR: dataDir } }));
});
afterAll(async () => {
  await Promise.allSettled([browser?.close(), world?.close()]);
});

/** The link in the newest message to `address`, as the person would click it. */
async function linkInMail(address: string): Promise<string> {
  await world.server.deps.outgoingMail.drain();
  const message = messagesTo(join(dataDir, 'outbox'), address).at(-1);
  const link = message && /https?:\/\/\S+\/recupero\/password\/nuova\?token=[\w-]+/.exec(message.text)?.[0];
  if (!link) throw new Error(`no recovery link in the outbox for ${address}`);
  return link;
}

describe('Password dimenticata? in a real browser', () => {
  it('from the login page to the message, a new password, and signed in at the service', async () => {
    const person = testPerson();
    const account = await world.server.deps.provisioning.provision(person);
    // axe is injected as a script: the page's CSP would refuse it
    const { context, page } = await openTab(browser, { bypassCSP: true });
    try {
      const service = await new DemoRpPage(page, world.rps[PAGO.id]!).goto();
      await service.startSignIn();
      const login = await new LoginPage(page).waitUntilShown();
      // keyboard: from the Entra button, Tab reaches Password dimenticata?
      await login.submit.focus();
      await page.keyboard.press('Tab');
      const focused = page.locator(':focus');
      expect(await focused.innerText()).toBe(t('login.forgot_password'));
      await page.keyboard.press('Enter');

      const recovery = await new PasswordRecoveryPage(page).waitUntilShown();
      expect(await recovery.heading.innerText()).toBe(t('recovery.password.title'));
      const formViolations = await axeViolations(page);
      expect(describeViolations('recovery form', formViolations)).toBe(describeViolations('recovery form', []));
      await recovery.ask(account.username, person.fiscalCode);
      const sent = await new RecoveryMessagePage(page).waitForHeading(t('recovery.password.sent_title'));
      expect(await sent.message.innerText()).toBe(t('recovery.password.sent', { minutes: 30 }));

      // the link from the message, opened in the same browser
      const choose = await new NewPasswordPage(page).open(await linkInMail(person.personalEmail!));
      expect(await choose.heading.innerText()).toBe(t('recovery.reset.title'));
      expect(await choose.rules.allInnerTexts()).toEqual(policyRules(SPID_LEVEL_1_POLICY).map((r) => t(`password.rule.${r.name}` as MessageKey, r.vars)));
      const resetViolations = await axeViolations(page);
      expect(describeViolations('new password page', resetViolations)).toBe(describeViolations('new password page', []));
      await choose.choose('Lavagna-Verde-7');

      const done = await new RecoveryMessagePage(page).waitForHeading(t('recovery.done.title'));
      expect(await done.next.innerText()).toBe(t('recovery.sign_in_at', { service: PAGO.name }));
      await done.next.click();

      // back on the sign-in the service started, with the new password
      const again = await new LoginPage(page).waitUntilShown();
      expect(await again.heading.innerText()).toBe(`Accedi a ${PAGO.name}`);
      await again.signIn(account.username, 'Lavagna-Verde-7');
      await service.waitUntilSignedIn();
      expect(await service.userinfoClaim('preferred_username')).toBe(account.username);
    } finally {
      await context.close();
    }
  });
});
