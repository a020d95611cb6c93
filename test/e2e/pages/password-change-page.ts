import type { Locator, Page } from 'playwright-core';
import { t } from '../../../src/i18n/index.js';

/** The password_change gate: current password (unless temporary), the new one twice, the rules. */
export class PasswordChangePage {
  readonly heading: Locator;
  readonly message: Locator;
  readonly rules: Locator;
  readonly current: Locator;
  readonly next: Locator;
  readonly confirm: Locator;
  readonly submit: Locator;
  readonly errorSummary: Locator;

  constructor(readonly page: Page) {
    this.heading = page.locator('main h1');
    this.message = page.locator('main [role="status"]');
    this.rules = page.locator('#password-rules li');
    this.current = page.getByLabel(t('gate.password_change.current'), { exact: true });
    this.next = page.getByLabel(t('gate.password_change.next'), { exact: true });
    this.confirm = page.getByLabel(t('gate.password_change.confirm'), { exact: true });
    this.submit = page.getByRole('button', { name: t('gate.password_change.submit'), exact: true });
    this.errorSummary = page.locator('#form-errors');
  }

  async waitUntilShown(): Promise<this> {
    await this.next.waitFor();
    return this;
  }

  async change(current: string | null, next: string, confirm = next): Promise<void> {
    if (current !== null) await this.current.fill(current);
    await this.next.fill(next);
    await this.confirm.fill(confirm);
    await this.submit.click();
  }

  async waitForError(): Promise<string> {
    await this.errorSummary.waitFor();
    return (await this.errorSummary.innerText()).trim();
  }
}
