import { randomInt } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { generate } from 'otplib';
import { t } from '../../src/i18n/index.js';
import { testMiUsername, testPerson } from '../support/server.js';
import { DemoRpPage } from './pages/demo-rp-page.js';
import { LoginPage } from './pages/login-page.js';
import { SecondFactorPage } from './pages/second-factor-page.js';
import { axeViolations, describeViolations } from './support/axe.js';
import { openTab } from './support/browser.js';
import { startWorldAndBrowser, type World } from './support/world.js';

const SIDI = { id: 'sidi', name: 'SIDI', acceptedAccountTypes: ['mi' as const] };

let world: World;
let browser: Browser;

beforeAll(async () => {
  ({ world, browser } = await startWorldAndBrowser([SIDI]));
});
afterAll(async () => {
  await Promise.allSettled([browser?.close(), world?.close()]);
});

describe('a security officer in a real browser', () => {
  it('enrols an authenticator app inside the first sign-in to SIDI, then types its code at the next one', async () => {
    const person = testPerson({ type: 'mi', username: testMiUsername(), schools: [{ schoolCode: `RMIC${randomInt(10000, 99999)}X`, role: 'ds', securityOfficer: true }] });
    const account = await world.server.deps.provisioning.provision(person);
    const signInToSidi = async () => {
      // axe is injected as a script: the page's CSP would refuse it
      const { context, page } = await openTab(browser, { bypassCSP: true });
      const sidi = await new DemoRpPage(page, world.rps[SIDI.id]!).goto();
      await sidi.startSignIn();
      await new LoginPage(page).waitUntilShown().then((login) => login.signIn(account.username, person.password));
      return { context, page, sidi, factor: await new SecondFactorPage(page).waitUntilShown() };
    };

    const first = await signInToSidi();
    try {
      expect(await first.factor.heading.innerText()).toBe(t('gate.second_factor.enrol_title'));
      await first.factor.qrCode.waitFor();
      expect(await first.factor.recoveryCodes.count()).toBe(10);
      expect(describeViolations('enrolment', await axeViolations(first.page))).toBe('enrolment: no violations');
      // to look at it: E2E_SCREENSHOTS=/some/dir
      if (process.env.E2E_SCREENSHOTS) await first.page.screenshot({ path: `${process.env.E2E_SCREENSHOTS}/second-factor-enrolment.png`, fullPage: true });
      const secret = (await first.factor.key.innerText()).replace(/\s/g, '');

      await first.factor.send('123456', 'enrol_submit');
      await first.factor.errorSummary.waitFor();
      expect(await first.factor.errorSummary.innerText()).toBe(t('gate.second_factor.wrong_code'));
      await first.factor.send(await generate({ secret }), 'enrol_submit');
      await first.sidi.waitUntilSignedIn();

      const second = await signInToSidi();
      try {
        expect(await second.factor.heading.innerText()).toBe(t('gate.second_factor.title'));
        expect(await second.factor.qrCode.count()).toBe(0);
        expect(describeViolations('code', await axeViolations(second.page))).toBe('code: no violations');
        // the code of the next step: the one of the enrolment is spent
        await second.factor.send(await generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 }), 'submit');
        await second.sidi.waitUntilSignedIn();
      } finally {
        await second.context.close();
      }
    } finally {
      await first.context.close();
    }
  });
});
