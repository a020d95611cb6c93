import type { Locator, Page } from 'playwright-core';
import { t } from '../../../src/i18n/index.js';

/** The second_factor gate: enrolment (QR code, key, recovery codes) or a code to type. */
export class SecondFactorPage {
  readonly heading: Locator;
  readonly qrCode: Locator;
  readonly key: Locator;
  readonly recoveryCodes: Locator;
  readonly code: Locator;
  readonly errorSummary: Locator;

  constructor(readonly page: Page) {
    this.heading = page.locator('main h1');
    this.qrCode = page.getByRole('img', { name: t('gate.second_factor.qr_label') });
    this.key = page.locator('main p.font-monospace');
    this.recoveryCodes = page.getByRole('list', { name: t('gate.second_factor.recovery_title') }).locator('li');
    this.code = page.getByLabel(t('gate.second_factor.code'), { exact: true });
    this.errorSummary = page.locator('#form-errors');
  }

  async waitUntilShown(): Promise<this> {
    await this.code.waitFor();
    return this;
  }

  async send(code: string, button: 'enrol_submit' | 'submit'): Promise<void> {
    await this.code.fill(code);
    await this.page.getByRole('button', { name: t(`gate.second_factor.${button}`), exact: true }).click();
  }
}
