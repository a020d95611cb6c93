import type { Browser, Page } from 'playwright-core';
import { t } from '../../src/i18n/index.js';
import { DemoRpPage } from './pages/demo-rp-page.js';
import { LoginPage } from './pages/login-page.js';
import { DESKTOP, MOBILE, openTab, screenshotPath, type Tab } from './support/browser.js';
import { startWorldAndBrowser, type World } from './support/world.js';

const REGISTRO = { id: 'registro-elettronico', name: 'Registro Elettronico' };

let world: World;
let browser: Browser;

beforeAll(async () => {
  ({ world, browser } = await startWorldAndBrowser([REGISTRO]));
});
afterAll(async () => {
  await Promise.allSettled([browser?.close(), world?.close()]);
});

async function withTab(viewport: { width: number; height: number }, run: (tab: Tab) => Promise<void>): Promise<void> {
  const tab = await openTab(browser, { viewport });
  try {
    await run(tab);
  } finally {
    await tab.context.close();
  }
}

async function openLogin(page: Page): Promise<LoginPage> {
  await new DemoRpPage(page, world.rps[REGISTRO.id]!).goto().then((rp) => rp.startSignIn());
  return new LoginPage(page).waitUntilShown();
}

const horizontalOverflow = (page: Page) =>
  page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);

describe('look of the provider pages', () => {
  it('fits a 375×667 phone without horizontal scrolling', () => withTab(MOBILE, async ({ page }) => {
    const login = await openLogin(page);
    expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);

    // The longest version of the form: error summary and field messages.
    await login.submit.click();
    await login.waitForError();
    expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);

    await page.goto(`${world.server.url}/`);
    expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);
  }));

  it.each([
    ['desktop', DESKTOP],
    ['mobile', MOBILE],
  ])('looks like a public-administration service on %s: Bootstrap Italia, Titillium, all assets served locally', (name, viewport) =>
    withTab(viewport, async ({ page, problems }) => {
      const requested: string[] = [];
      page.on('request', (request) => requested.push(request.url()));
      const login = await openLogin(page);
      await page.evaluate(() => document.fonts.ready);
      await page.screenshot({ path: screenshotPath(`login-${name}`), fullPage: true });

      const look = await page.evaluate(() => ({
        bodyFont: getComputedStyle(document.body).fontFamily,
        titilliumLoaded: [...document.fonts].some((f) => f.family.replace(/"/g, '') === 'Titillium Web' && f.status === 'loaded'),
        headerBlue: getComputedStyle(document.querySelector('.it-header-center-wrapper')!).backgroundColor,
        footer: document.querySelector('footer.it-footer')?.getBoundingClientRect().height ?? 0,
      }));
      expect(look.bodyFont).toMatch(/^"?Titillium Web"?/);
      expect(look.titilliumLoaded).toBe(true);
      expect(look.headerBlue).toBe('rgb(0, 102, 204)');
      expect(look.footer).toBeGreaterThan(0);
      expect(await page.locator('header').innerText()).toContain(t('app.owner'));
      expect(await page.locator('footer').innerText()).toContain(t('helpdesk.title'));
      expect(await login.submit.isVisible()).toBe(true);

      // Only the provider's pages count here: the demo service is not under test.
      const origin = new URL(world.server.url).origin;
      expect(problems.brokenResources.filter((line) => line.startsWith(`${origin}/`))).toEqual([]);
      expect(problems.consoleErrors.filter((line) => line.startsWith(`${origin}/`))).toEqual([]);
      // Nothing from a CDN: the page must work where the provider is the only reachable host.
      const rpOrigin = new URL(world.rps[REGISTRO.id]!.url).origin;
      expect(requested.filter((url) => !url.startsWith('data:') && ![origin, rpOrigin].includes(new URL(url).origin))).toEqual([]);
    }));
});
