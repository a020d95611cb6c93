import type { Locator, Page } from 'playwright-core';
import { t } from '../../../src/i18n/index.js';

/** A gate that refuses the sign-in (e.g. a service that accepts only MI accounts). */
export class RefusalPage {
  readonly heading: Locator;
  readonly message: Locator;
  readonly backToService: Locator;

  constructor(readonly page: Page) {
    this.heading = page.locator('main h1');
    this.message = page.locator('main [role="alert"]');
    this.backToService = page.getByRole('button', { name: t('gate.back_to_service'), exact: true });
  }

  async waitUntilShown(): Promise<this> {
    await this.page.waitForURL(/\/interaction\/[^/]+$/);
    await this.backToService.waitFor();
    return this;
  }

  async returnToService(): Promise<void> {
    await this.backToService.click();
  }
}
