import type { Browser, Page } from 'playwright-core';
import { generate } from 'otplib';
import { t } from '../../src/i18n/index.js';
import { testPerson } from '../support/server.js';
import { LoginPage } from './pages/login-page.js';
import { SecondFactorPage } from './pages/second-factor-page.js';
import { axeViolations, describeViolations } from './support/axe.js';
import { openTab } from './support/browser.js';
import { startWorldAndBrowser, type World } from './support/world.js';

let world: World;
let browser: Browser;

beforeAll(async () => {
  ({ world, browser } = await startWorldAndBrowser([{ id: 'pago-in-rete', name: 'Pago in Rete' }]));
});
afterAll(async () => {
  await Promise.allSettled([browser?.close(), world?.close()]);
});

async function expectNoViolations(page: Page, label: string): Promise<void> {
  expect(describeViolations(label, await axeViolations(page))).toBe(`${label}: no violations`);
}

/** Signs in from a console's address, enrolling the app when asked; returns the key. */
async function signInThere(page: Page, path: string, credentials: { username: string; password: string }): Promise<string> {
  await page.goto(`${world.server.url}${path}`);
  await new LoginPage(page).waitUntilShown().then((login) => login.signIn(credentials.username, credentials.password));
  const factor = await new SecondFactorPage(page).waitUntilShown();
  const secret = (await factor.key.innerText()).replace(/\s/g, '');
  await factor.send(await generate({ secret }), 'enrol_submit');
  return secret;
}

describe('the consoles in a real browser', () => {
  it('Area riservata: switches the second factor on from its page, keyboard and axe clean', async () => {
    const person = testPerson();
    const { username } = await world.server.deps.provisioning.provision(person);
    // axe is injected as a script: the page's CSP would refuse it
    const { context, page } = await openTab(browser, { bypassCSP: true });
    try {
      await page.goto(`${world.server.url}/area-riservata/verifica-in-due-passaggi`);
      await new LoginPage(page).waitUntilShown().then((login) => login.signIn(username, person.password));
      await page.locator('main h1', { hasText: t('area.second_factor.title') }).waitFor();
      await expectNoViolations(page, 'area: second factor off');
      await page.getByRole('link', { name: t('area.second_factor.enrol'), exact: true }).click();
      const factor = await new SecondFactorPage(page).waitUntilShown();
      await expectNoViolations(page, 'area: enrolment');
      await factor.code.fill(await generate({ secret: (await factor.key.innerText()).replace(/\s/g, '') }));
      await page.keyboard.press('Enter');
      await page.getByText(t('area.second_factor.enrolled')).waitFor();
      await expectNoViolations(page, 'area: second factor on');
      await page.getByRole('button', { name: t('area.second_factor.new_codes'), exact: true }).click();
      expect(await page.getByRole('list', { name: t('gate.second_factor.recovery_title') }).locator('li').count()).toBe(10);
      await expectNoViolations(page, 'area: new recovery codes');
    } finally {
      await context.close();
    }
  });

  it('administration: the audit log and the staff import, axe clean', async () => {
    const person = testPerson();
    const { username } = await world.server.deps.provisioning.provision(person);
    await world.server.deps.administrators.grant(username, { kind: 'system' });
    const { context, page } = await openTab(browser, { bypassCSP: true });
    try {
      await signInThere(page, '/admin', { username, password: person.password });
      await page.locator('main h1', { hasText: t('admin.title') }).waitFor();
      await expectNoViolations(page, 'admin: home');
      await page.getByRole('link', { name: t('admin.audit.title') }).first().click();
      await page.locator('table caption', { hasText: t('admin.audit.caption') }).waitFor();
      await expectNoViolations(page, 'admin: audit log');
      await page.getByRole('link', { name: t('admin.import.title') }).first().click();
      await page.setInputFiles('#file', { name: 'personale.csv', mimeType: 'text/csv', buffer: Buffer.from('cf;nome\nX;Y\n') });
      await page.getByRole('button', { name: t('admin.import.submit'), exact: true }).click();
      await page.locator('#report-title').waitFor();
      expect(await page.locator('main .alert-danger[role="status"]').innerText()).toContain('File rifiutato');
      await expectNoViolations(page, 'admin: import report');
      await page.getByRole('link', { name: t('admin.roles.title') }).first().click();
      await page.locator('main h1', { hasText: t('admin.roles.title') }).waitFor();
      await expectNoViolations(page, 'admin: administrators');
      await page.getByRole('link', { name: new RegExp(`^${t('admin.roles.revoke')}`) }).first().click();
      await page.locator('main h1', { hasText: t('admin.roles.revoke_title') }).waitFor();
      await expectNoViolations(page, 'admin: confirmation');
      await page.goto(`${world.server.url}/admin/abilitazioni?cf=${person.fiscalCode}`);
      await page.locator('main h1', { hasText: t('admin.enablements.title') }).waitFor();
      await expectNoViolations(page, 'admin: enablements');

      // Servizi: register one in the browser (a refused form first), its secret, its page, the rotation's confirmation
      await page.locator('nav.iam-admin-bar').getByRole('link', { name: t('admin.services.title'), exact: true }).click();
      await page.locator('main h1', { hasText: t('admin.services.title') }).waitFor();
      await expectNoViolations(page, 'admin: services');
      await page.getByRole('link', { name: t('admin.services.new') }).click();
      const id = `servizio-e2e-${Date.now()}`;
      await page.fill('#id', id);
      await page.fill('#name', 'Servizio dal browser');
      await page.fill('#redirectUris', 'http://rp.example/callback#x');
      await page.getByRole('button', { name: t('admin.services.register') }).click();
      await page.locator('#redirectUris-error').waitFor();
      await expectNoViolations(page, 'admin: service form refused');
      await page.fill('#redirectUris', 'https://rp.example/callback');
      await page.getByRole('button', { name: t('admin.services.register') }).click();
      const secret = await page.locator('[data-secret]').inputValue();
      expect(secret).toMatch(/^[\w-]{43}$/);
      await expectNoViolations(page, 'admin: new secret');
      await page.getByRole('link', { name: t('admin.services.back_to_service') }).click();
      await page.locator('main h1', { hasText: 'Servizio dal browser' }).waitFor();
      expect(await page.content()).not.toContain(secret);
      await expectNoViolations(page, 'admin: service page');
      await page.getByRole('link', { name: t('admin.services.rotate') }).click();
      await page.locator('#grace').waitFor();
      await expectNoViolations(page, 'admin: rotation confirmation');

      // Registrazione dinamica: a refused form, a token shown once, the revocation's confirmation
      await page.locator('nav.iam-admin-bar').getByRole('link', { name: t('admin.tokens.title'), exact: true }).click();
      await page.locator('main h1', { hasText: t('admin.tokens.title') }).waitFor();
      await page.fill('#uses', '0');
      await page.getByRole('button', { name: t('admin.tokens.issue') }).click();
      await page.locator('#label-error').waitFor();
      await expectNoViolations(page, 'admin: token form refused');
      await page.fill('#label', 'Partner dal browser');
      await page.fill('#uses', '2');
      await page.getByRole('button', { name: t('admin.tokens.issue') }).click();
      expect(await page.locator('[data-token-value]').inputValue()).toMatch(/^[\w-]{43}$/);
      await expectNoViolations(page, 'admin: new token');
      await page.getByRole('link', { name: t('admin.tokens.back') }).click();
      await page.getByRole('link', { name: new RegExp(`^${t('admin.tokens.revoke')}`) }).first().click();
      await page.locator('main h1', { hasText: t('admin.tokens.revoke_title') }).waitFor();
      await expectNoViolations(page, 'admin: token revocation confirmation');
    } finally {
      await context.close();
    }
  });

  it('Area riservata at 375 px: the data and the password change by keyboard alone, axe clean', async () => {
    const person = testPerson();
    const { username } = await world.server.deps.provisioning.provision(person);
    const { context, page } = await openTab(browser, { bypassCSP: true, viewport: { width: 375, height: 740 } });
    try {
      await page.goto(`${world.server.url}/area-riservata`);
      await new LoginPage(page).waitUntilShown().then((login) => login.signIn(username, person.password));
      await page.locator('main h1', { hasText: t('area.title') }).waitFor();
      await expectNoViolations(page, 'area: data at 375 px');
      await page.getByRole('link', { name: t('area.nav.password'), exact: true }).focus();
      await page.keyboard.press('Enter');
      await page.locator('main h1', { hasText: t('area.password.title') }).waitFor();
      await expectNoViolations(page, 'area: password at 375 px');
      // by keyboard: each field in turn, the option left on, then the button
      await page.getByLabel(t('gate.password_change.current'), { exact: true }).focus();
      await page.keyboard.type(person.password);
      await page.keyboard.press('Tab');
      await page.keyboard.type('Lavagna-Verde-2031!');
      await page.keyboard.press('Tab');
      await page.keyboard.type('Lavagna-Verde-2031!');
      await page.keyboard.press('Tab');
      expect(await page.evaluate(() => document.activeElement?.id)).toBe('altre_sessioni');
      await page.keyboard.press('Tab');
      await page.keyboard.press('Enter');
      await page.locator('main .alert-success').waitFor();
      expect(await page.locator('main .alert-success').innerText()).toContain('La password è stata cambiata.');
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow).toBeLessThanOrEqual(0);
    } finally {
      await context.close();
    }
  });

  it('the footer\'s pages: accessibility statement, privacy, legal notes, cookies, axe clean', async () => {
    const { context, page } = await openTab(browser, { bypassCSP: true });
    try {
      for (const [path, label] of [['/accessibilita', 'accessibility'], ['/privacy', 'privacy'], ['/note-legali', 'legal notes'], ['/cookie', 'cookies']] as const) {
        await page.goto(`${world.server.url}${path}`);
        await expectNoViolations(page, label);
      }
    } finally {
      await context.close();
    }
  });
});
