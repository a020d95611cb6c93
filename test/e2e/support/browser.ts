import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';

/**
 * Debian's chromium, headless. The machine has no internet: every flag below
 * keeps chromium from reaching for Google services at start-up.
 */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export const DESKTOP = { width: 1280, height: 900 } as const;
export const MOBILE = { width: 375, height: 667 } as const;

/** What went wrong while a page loaded: console errors, failed or 4xx/5xx sub-resources. */
export interface PageProblems {
  consoleErrors: string[];
  brokenResources: string[];
}

export interface Tab {
  context: BrowserContext;
  page: Page;
  problems: PageProblems;
}

/**
 * A fresh context (its own cookies, like a different person's browser) with one page.
 * Documents may legitimately answer 4xx (a 404 page, a 401 login error), so only
 * sub-resources — CSS, fonts, images, scripts — count as broken.
 */
export async function openTab(browser: Browser, options: BrowserContextOptions = {}): Promise<Tab> {
  const context = await browser.newContext({ viewport: DESKTOP, locale: 'it-IT', ...options });
  // Failures should say what was missing, quickly, well inside jest's own timeout.
  context.setDefaultTimeout(10_000);
  context.setDefaultNavigationTimeout(10_000);
  const page = await context.newPage();
  const problems: PageProblems = { consoleErrors: [], brokenResources: [] };
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const source = message.location().url;
    problems.consoleErrors.push(`${page.url()}: ${message.text()}${source && source !== page.url() ? ` (${source})` : ''}`);
  });
  page.on('pageerror', (error) => problems.consoleErrors.push(`${page.url()}: ${error.message}`));
  page.on('requestfailed', (request) => {
    if (request.resourceType() !== 'document') {
      problems.brokenResources.push(`${request.url()} (${request.failure()?.errorText ?? 'failed'})`);
    }
  });
  page.on('response', (response) => {
    if (response.request().resourceType() !== 'document' && response.status() >= 400) {
      problems.brokenResources.push(`${response.url()} (${response.status()})`);
    }
  });
  return { context, page, problems };
}

/** Screenshots go to /tmp (or E2E_SCREENSHOT_DIR) for a person to look at. */
export function screenshotPath(name: string): string {
  return `${process.env.E2E_SCREENSHOT_DIR ?? '/tmp'}/iam-e2e-${name}.png`;
}
