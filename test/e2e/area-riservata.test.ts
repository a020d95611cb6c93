import { mkdtempSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { t } from '../../src/i18n/index.js';
import { client } from '../support/oidc.js';
import { messagesTo } from '../support/outbox.js';
import { testPerson } from '../support/server.js';
import { DemoRpPage } from './pages/demo-rp-page.js';
import { LoginPage } from './pages/login-page.js';
import { axeViolations, describeViolations } from './support/axe.js';
import { MOBILE, openTab } from './support/browser.js';
import { startWorldAndBrowser, type World } from './support/world.js';

const PAGO = { id: 'pago-in-rete', name: 'Pago in Rete' };

let world: World;
let browser: Browser;
const dataDir = mkdtempSync(join(tmpdir(), 'iam-e2e-area-'));

beforeAll(async () => {
  ({ world, browser } = await startWorldAndBrowser([PAGO], { env: { DATA_DIR: dataDir }, rpScopes: ['openid', 'profile', 'email', 'offline_access'] }));
});
afterAll(async () => {
  await Promise.allSettled([browser?.close(), world?.close()]);
});

async function noViolations(page: Page, label: string) {
  expect(describeViolations(label, await axeViolations(page))).toBe(`${label}: no violations`);
}

async function codeInMail(address: string): Promise<string> {
  await world.server.deps.outgoingMail.drain();
  const code = /\b(\d{6})\b/.exec(messagesTo(join(dataDir, 'outbox'), address).at(-1)?.text ?? '')?.[1];
  if (!code) throw new Error(`no code in the outbox for ${address}`);
  return code;
}

const heading = (page: Page, text: string) => page.locator('main h1', { hasText: text }).waitFor();

/** A person signed in at the demo Pago in Rete in a tab of their own. */
async function signedInAtPago(person = testPerson(), options: { viewport?: { width: number; height: number } } = {}) {
  const { username, id: accountId } = await world.server.deps.provisioning.provision(person);
  const tab = await openTab(browser, { bypassCSP: true, ...options });
  const pago = await new DemoRpPage(tab.page, world.rps[PAGO.id]!).goto();
  await pago.startSignIn();
  await new LoginPage(tab.page).waitUntilShown().then((login) => login.signIn(username, person.password));
  await pago.waitUntilSignedIn();
  return { ...tab, pago, username, accountId, person };
}

describe('the Area riservata in a real browser', () => {
  it('from Pago in Rete to the Area riservata by the user menu, without the password; the personal e-mail changed with the code from the mail shows at the service', async () => {
    const { context, page, pago, person } = await signedInAtPago();
    try {
      await page.goto(`${world.server.url}/`);
      await page.getByRole('navigation', { name: t('user_menu.label') }).getByRole('link', { name: `${person.givenName} ${person.familyName}` }).click();
      await heading(page, t('area.title'));
      await page.getByRole('link', { name: t('area.home.change_email') }).click();
      await heading(page, t('area.email.title'));
      const fresh = `e2e.${randomBytes(5).toString('hex')}@example.org`;
      await page.getByLabel(t('area.email.new')).fill(fresh);
      await page.getByRole('button', { name: t('area.email.send_code') }).click();
      await heading(page, t('area.email.code_title'));
      await noViolations(page, 'e-mail code');
      await page.getByLabel(t('area.email.code')).fill(await codeInMail(fresh));
      await page.getByRole('button', { name: t('area.email.confirm'), exact: true }).click();
      await page.getByText(t('area.email.changed', { address: fresh })).waitFor();

      // the service signs in again (single sign-on, no password) and reads userinfo
      await page.goto(`${world.rps[PAGO.id]!.url}/login`);
      await pago.waitUntilSignedIn();
      expect(await pago.userinfoClaim('email')).toBe(fresh);
    } finally {
      await context.close();
    }
  });

  it('two browsers signed in: the first ends the other session, which is signed out at its next request (and at the service, told by back-channel logout)', async () => {
    const person = testPerson();
    const first = await signedInAtPago(person);
    const second = await openTab(browser, { bypassCSP: true, userAgent: 'Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0' });
    try {
      const otherPago = await new DemoRpPage(second.page, world.rps[PAGO.id]!).goto();
      await otherPago.startSignIn();
      await new LoginPage(second.page).waitUntilShown().then((login) => login.signIn(first.username, person.password));
      await otherPago.waitUntilSignedIn();

      await first.page.goto(`${world.server.url}/area-riservata/sessioni`);
      await heading(first.page, t('area.sessions.title'));
      await noViolations(first.page, 'sessions');
      const other = first.page.locator('[data-session="other"]');
      expect(await other.innerText()).toContain('Firefox 133');
      await other.getByRole('button', { name: new RegExp(t('area.sessions.end')) }).click();
      await first.page.getByText(t('area.sessions.ended')).waitFor();
      expect(await first.page.locator('[data-session="other"]').count()).toBe(0);

      // its next request: the provider asks for the password; the service has signed it out
      await second.page.goto(`${world.server.url}/area-riservata`);
      await new LoginPage(second.page).waitUntilShown();
      await otherPago.goto();
      await otherPago.signInLink.waitFor();
      // the first browser is still signed in
      await first.page.goto(`${world.server.url}/area-riservata`);
      await heading(first.page, t('area.title'));
    } finally {
      await Promise.allSettled([first.context.close(), second.context.close()]);
    }
  });

  it("revoking Pago in Rete from Servizi: the service is told, and its refresh token fails", async () => {
    const { context, page, pago, accountId } = await signedInAtPago();
    const rp = world.rps[PAGO.id]!;
    try {
      // the demo holds a refresh token (offline_access asked with prompt=consent)
      await page.goto(`${world.rps[PAGO.id]!.url}/login?prompt=consent`);
      await pago.waitUntilSignedIn();
      const refresh = page.getByRole('button', { name: 'Aggiorna token', exact: true });
      await refresh.click();
      await page.getByText('Token aggiornati.').waitFor();
      const held = rp.sessions.all().find((s) => s.signIn?.sub === accountId)?.signIn?.refreshToken;
      expect(held).toBeDefined();
      const logoutsBefore = rp.backchannelLogouts.length;

      await page.goto(`${world.server.url}/area-riservata/servizi`);
      await heading(page, t('area.services.title'));
      await noViolations(page, 'services');
      await page.locator(`[data-service="${PAGO.id}"]`).getByRole('button').click();
      await page.getByText(t('area.services.revoked', { name: PAGO.name })).waitFor();

      // told by back-channel logout, the service has signed the person out; the token it held is dead
      expect(rp.backchannelLogouts.length).toBeGreaterThan(logoutsBefore);
      await pago.goto();
      await pago.signInLink.waitFor();
      await expect(client.refreshTokenGrant(rp.config, held!)).rejects.toMatchObject({ error: 'invalid_grant' });
    } finally {
      await context.close();
    }
  });

  it('every page at 375 px: axe clean, no sideways scroll, the contact data typed and sent by keyboard alone', async () => {
    const { context, page } = await signedInAtPago(testPerson(), { viewport: MOBILE });
    const fits = async () => expect(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBeLessThanOrEqual(0);
    try {
      for (const [path, title] of [
        ['/area-riservata', t('area.title')],
        ['/area-riservata/recapiti', t('area.contacts.title')],
        ['/area-riservata/email', t('area.email.title')],
        ['/area-riservata/sessioni', t('area.sessions.title')],
        ['/area-riservata/servizi', t('area.services.title')],
        ['/area-riservata/attivita', t('area.activity.title')],
      ] as const) {
        await page.goto(`${world.server.url}${path}`);
        await heading(page, title);
        await noViolations(page, `${path} at 375 px`);
        await fits();
      }

      await page.goto(`${world.server.url}/area-riservata/recapiti`);
      await page.getByLabel(t('area.contacts.mobile')).focus();
      await page.keyboard.type('333 1234567');
      await page.keyboard.press('Tab');
      await page.keyboard.type('12');
      await page.keyboard.press('Tab');
      expect(await page.evaluate(() => document.activeElement?.id)).toBe('country');
      await page.keyboard.press('Enter');
      await page.keyboard.press('Tab');
      await page.keyboard.type('Via Roma 1');
      await page.keyboard.press('Tab');
      await page.keyboard.type('00184');
      await page.keyboard.press('Tab');
      await page.keyboard.press('Tab');
      await page.keyboard.type('Atlantide');
      await page.keyboard.press('Enter');
      // refused, each message under its field, the form kept
      await page.locator('#home_phone-error').waitFor();
      await noViolations(page, 'contact data refused at 375 px');
      expect(await page.getByLabel(t('area.contacts.street')).inputValue()).toBe('Via Roma 1');
      await fits();
    } finally {
      await context.close();
    }
  });
});
