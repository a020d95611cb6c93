import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { t } from '../../src/i18n/index.js';
import { messagesTo } from '../support/outbox.js';
import { testPerson } from '../support/server.js';
import { DemoRpPage } from './pages/demo-rp-page.js';
import { LoginPage } from './pages/login-page.js';
import { axeViolations, describeViolations } from './support/axe.js';
import { openTab } from './support/browser.js';
import { startWorldAndBrowser, type World } from './support/world.js';

const PAGO = { id: 'pago-in-rete', name: 'Pago In Rete' };

let world: World;
let browser: Browser;
const dataDir = mkdtempSync(join(tmpdir(), 'iam-e2e-registration-'));

beforeAll(async () => {
  ({ world, browser } = await startWorldAndBrowser([PAGO], { env: { DATA_DIR: dataDir } }));
});
afterAll(async () => {
  await Promise.allSettled([browser?.close(), world?.close()]);
});

async function codeInMail(address: string): Promise<string> {
  await world.server.deps.outgoingMail.drain();
  const code = /\b(\d{6})\b/.exec(messagesTo(join(dataDir, 'outbox'), address).at(-1)?.text ?? '')?.[1];
  if (!code) throw new Error(`no code in the outbox for ${address}`);
  return code;
}

const heading = (page: Page, text: string) => page.getByRole('heading', { level: 1, name: text }).waitFor();
const proceed = (page: Page) => page.getByRole('button', { name: t('registration.continue') }).click();

async function noViolations(page: Page, name: string) {
  const violations = await axeViolations(page);
  expect(describeViolations(name, violations)).toBe(describeViolations(name, []));
}

describe('Registrati in a real browser', () => {
  it('from the login page, with the code from the mail, to signed in at the service', async () => {
    const person = testPerson();
    const email = `e2e.${randomBytes(5).toString('hex')}@example.org`;
    const { context, page } = await openTab(browser, { bypassCSP: true });
    try {
      const service = await new DemoRpPage(page, world.rps[PAGO.id]!).goto();
      await service.startSignIn();
      await new LoginPage(page).waitUntilShown();
      await page.getByRole('link', { name: t('login.register') }).click();

      await heading(page, t('registration.identity.title'));
      await noViolations(page, 'identity');
      await page.getByLabel(t('registration.field.given_name'), { exact: true }).fill(person.givenName);
      await page.getByLabel(t('registration.field.family_name'), { exact: true }).fill(person.familyName);
      // Bootstrap Italia draws radios and checkboxes on their labels: a person clicks the label
      await page.locator(`label[for="sex-${person.sex}"]`).click();
      await page.getByLabel(t('registration.field.birth_date')).fill(person.birthDate.split('-').reverse().join('/'));
      await page.getByLabel(t('registration.field.comune')).fill('Roma');
      await page.getByLabel(t('registration.field.province')).fill('RM');
      await proceed(page);

      await heading(page, t('registration.fiscal_code.title'));
      await page.getByLabel(t('registration.field.fiscal_code')).fill(person.fiscalCode);
      await proceed(page);

      await heading(page, t('registration.email.title'));
      await page.getByLabel(t('registration.field.email')).fill(email);
      await proceed(page);

      await heading(page, t('registration.code.title'));
      await noViolations(page, 'code');
      await page.getByLabel(t('registration.field.code'), { exact: true }).fill(await codeInMail(email));
      await proceed(page);

      await heading(page, t('registration.privacy.title'));
      await page.locator('label[for="privacy"]').click();
      expect(await page.getByLabel(t('registration.field.privacy')).isChecked()).toBe(true);
      await proceed(page);

      await heading(page, t('registration.username.title'));
      const username = (await page.locator('#username').innerText()).trim();
      // nome.cognome, with a number when another account has it already
      expect(username).toMatch(new RegExp(`^${person.givenName}\\.${person.familyName}\\d*$`, 'i'));
      await proceed(page);

      await heading(page, t('registration.password.title'));
      await noViolations(page, 'password');
      await page.getByLabel(t('registration.field.password'), { exact: true }).fill('Quaderno-Blu-42');
      await page.getByLabel(t('registration.field.confirm')).fill('Quaderno-Blu-42');
      await page.getByRole('button', { name: t('registration.password.submit') }).click();

      await service.waitUntilSignedIn();
      expect(await service.userinfoClaim('preferred_username')).toBe(username);
    } finally {
      await context.close();
    }
  });
});
