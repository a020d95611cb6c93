import type { Locator, Page } from 'playwright-core';
import { t } from '../../../src/i18n/index.js';

/** The provider's "Esci dai servizi" question, and the page after signing out. */
export class LogoutPage {
  readonly heading: Locator;
  readonly confirmButton: Locator;
  readonly stayButton: Locator;
  readonly doneHeading: Locator;

  constructor(readonly page: Page) {
    this.heading = page.locator('main h1');
    this.confirmButton = page.getByRole('button', { name: t('logout.confirm'), exact: true });
    this.stayButton = page.getByRole('button', { name: t('logout.cancel'), exact: true });
    this.doneHeading = page.getByRole('heading', { level: 1, name: t('logout.done_title'), exact: true });
  }

  /** Straight to the provider's end-session endpoint, as a person signing out from its site would. */
  async goto(issuer: string): Promise<this> {
    await this.page.goto(`${issuer}/session/end`);
    return this.waitUntilShown();
  }

  async waitUntilShown(): Promise<this> {
    await this.confirmButton.waitFor();
    return this;
  }

  async confirm(): Promise<void> {
    await this.confirmButton.click();
  }

  /** Shown when no service asked to get the browser back. */
  async waitUntilDone(): Promise<this> {
    await this.doneHeading.waitFor();
    return this;
  }
}
