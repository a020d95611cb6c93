import type { Locator, Page } from 'playwright-core';
import { t } from '../../../src/i18n/index.js';

/** What a service not run by the Ministry will receive, with accept / refuse. */
export class ConsentPage {
  readonly heading: Locator;
  readonly items: Locator;
  readonly acceptButton: Locator;
  readonly denyButton: Locator;

  constructor(readonly page: Page) {
    this.heading = page.locator('main h1');
    this.items = page.locator('main ul li');
    this.acceptButton = page.getByRole('button', { name: t('consent.accept'), exact: true });
    this.denyButton = page.getByRole('button', { name: t('consent.deny'), exact: true });
  }

  async waitUntilShown(): Promise<this> {
    await this.page.waitForURL(/\/interaction\/[^/]+$/);
    await this.acceptButton.waitFor();
    return this;
  }

  async requestedData(): Promise<string[]> {
    return (await this.items.allInnerTexts()).map((s) => s.trim());
  }

  async accept(): Promise<void> {
    await this.acceptButton.click();
  }
}
