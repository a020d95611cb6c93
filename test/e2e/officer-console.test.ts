import { mkdtempSync } from 'node:fs';
import { randomInt } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { generate } from 'otplib';
import { t } from '../../src/i18n/index.js';
import { messagesTo } from '../support/outbox.js';
import { testMiUsername, testPerson } from '../support/server.js';
import { DemoRpPage } from './pages/demo-rp-page.js';
import { LoginPage } from './pages/login-page.js';
import { OfficerConsolePage } from './pages/officer-console-pages.js';
import { PasswordChangePage } from './pages/password-change-page.js';
import { SecondFactorPage } from './pages/second-factor-page.js';
import { axeViolations, describeViolations } from './support/axe.js';
import { openTab } from './support/browser.js';
import { startWorldAndBrowser, type World } from './support/world.js';

const SIDI = { id: 'sidi', name: 'SIDI', acceptedAccountTypes: ['mi' as const] };

let world: World;
let browser: Browser;
const dataDir = mkdtempSync(join(tmpdir(), 'iam-e2e-officer-'));

beforeAll(async () => {
  ({ world, browser } = await startWorldAndBrowser([SIDI], { env: { DATA_DIR: dataDir } }));
});
afterAll(async () => {
  await Promise.allSettled([browser?.close(), world?.close()]);
});

async function temporaryPasswordMailedTo(address: string): Promise<string> {
  await world.server.deps.outgoingMail.drain();
  const text = messagesTo(join(dataDir, 'outbox'), address).at(-1)?.text ?? '';
  const password = /Password temporanea: (\S+)/.exec(text)?.[1];
  if (!password) throw new Error(`no temporary password in the outbox for ${address}`);
  return password;
}

describe('SIDI Gestione Utenze in a real browser', () => {
  it('the officer signs in to SIDI with a code, opens Gestione Utenze, resets an employee; the employee signs in with the mailed password, changes it and reaches SIDI', async () => {
    const school = `RMIC${randomInt(10000, 99999)}X`;
    const officerData = testPerson({ type: 'mi', username: testMiUsername(), institutionalEmail: { address: `ds.${randomInt(1e9)}@istruzione.it`, state: 'ATTIVA' }, schools: [{ schoolCode: school, role: 'ds', securityOfficer: true }] });
    const employeeData = testPerson({ type: 'mi', username: testMiUsername(), institutionalEmail: { address: `dsga.${randomInt(1e9)}@istruzione.it`, state: 'ATTIVA' }, schools: [{ schoolCode: school, role: 'dsga' }] });
    const officer = await world.server.deps.provisioning.provision(officerData);
    const employee = await world.server.deps.provisioning.provision(employeeData);

    // axe is injected as a script: the page's CSP would refuse it
    const officerTab = await openTab(browser, { bypassCSP: true });
    try {
      const page = officerTab.page;
      const sidi = await new DemoRpPage(page, world.rps[SIDI.id]!).goto();
      await sidi.startSignIn();
      await new LoginPage(page).waitUntilShown().then((login) => login.signIn(officer.username, officerData.password));
      const factor = await new SecondFactorPage(page).waitUntilShown();
      await factor.send(await generate({ secret: (await factor.key.innerText()).replace(/\s/g, '') }), 'enrol_submit');
      await sidi.waitUntilSignedIn();

      // SIDI's Gestione Utenze: the SSO session carries the officer in, two factors and all
      await page.getByRole('link', { name: 'Gestione Utenze (Responsabili della sicurezza)' }).click();
      const console = await new OfficerConsolePage(page).waitForHeading(t('officer.title'));
      await console.chooseSchool(school);
      await console.waitForHeading(t('officer.search.title'));
      expect(describeViolations('search', await axeViolations(page))).toBe('search: no violations');
      await console.search(employeeData.fiscalCode);
      await console.waitForHeading(t('officer.card.title'));
      expect(await console.field('username')).toBe(employee.username);
      expect(await console.field('mailbox')).toBe('ATTIVA');
      expect(describeViolations('card', await axeViolations(page))).toBe('card: no violations');
      if (process.env.E2E_SCREENSHOTS) await page.screenshot({ path: `${process.env.E2E_SCREENSHOTS}/officer-card.png`, fullPage: true });
      await console.resetLink.click();
      await console.confirmButton.click();
      await console.waitForHeading(t('officer.reset.done_title'));
      expect(await console.success.innerText()).toContain(officerData.institutionalEmail!.address);
    } finally {
      await officerTab.context.close();
    }

    const temporary = await temporaryPasswordMailedTo(officerData.institutionalEmail!.address);
    const employeeTab = await openTab(browser);
    try {
      const page = employeeTab.page;
      const sidi = await new DemoRpPage(page, world.rps[SIDI.id]!).goto();
      await sidi.startSignIn();
      await new LoginPage(page).waitUntilShown().then((login) => login.signIn(employee.username, temporary));
      const change = await new PasswordChangePage(page).waitUntilShown();
      await change.change(null, 'Segreteria-Nuova-2027!');
      await sidi.waitUntilSignedIn();
    } finally {
      await employeeTab.context.close();
    }
  });
});
