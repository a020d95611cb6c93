import type { Locator, Page } from 'playwright-core';
import { t } from '../../../src/i18n/index.js';

/** The provider's error pages (not found, expired sign-in, bad request). */
export class ErrorPage {
  readonly heading: Locator;
  readonly message: Locator;

  constructor(readonly page: Page) {
    this.heading = page.getByRole('heading', { level: 1, name: t('error.title'), exact: true });
    this.message = page.locator('main [role="alert"]');
  }

  async waitUntilShown(): Promise<string> {
    await this.heading.waitFor();
    return (await this.message.innerText()).trim();
  }
}
