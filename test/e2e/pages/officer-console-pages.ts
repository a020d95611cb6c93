import type { Locator, Page } from 'playwright-core';
import { t } from '../../../src/i18n/index.js';

/** SIDI Gestione Utenze: the school chooser, the search, the employee card and the reset. */
export class OfficerConsolePage {
  readonly heading: Locator;
  readonly fiscalCode: Locator;
  readonly searchButton: Locator;
  readonly resetLink: Locator;
  readonly confirmButton: Locator;
  readonly success: Locator;

  constructor(readonly page: Page) {
    this.heading = page.locator('main h1');
    this.fiscalCode = page.getByLabel(t('officer.search.fiscal_code'), { exact: true });
    this.searchButton = page.getByRole('button', { name: t('officer.search.submit'), exact: true });
    this.resetLink = page.getByRole('link', { name: t('officer.card.reset'), exact: true });
    this.confirmButton = page.getByRole('button', { name: t('officer.reset.confirm'), exact: true });
    this.success = page.locator('main .alert-success');
  }

  async waitForHeading(text: string): Promise<this> {
    await this.page.locator('main h1', { hasText: text }).waitFor();
    return this;
  }

  async chooseSchool(code: string): Promise<void> {
    await this.page.getByRole('link', { name: code, exact: true }).click();
  }

  async search(fiscalCode: string): Promise<void> {
    await this.fiscalCode.fill(fiscalCode);
    await this.searchButton.click();
  }

  /** A row of the employee card, by its data-field. */
  async field(name: string): Promise<string> {
    return (await this.page.locator(`dd[data-field="${name}"]`).innerText()).trim();
  }
}
