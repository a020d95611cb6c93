import type { Locator, Page } from 'playwright-core';
import { t } from '../../../src/i18n/index.js';

/** The provider's sign-in form (/interaction/<uid>), shown for every service. */
export class LoginPage {
  readonly heading: Locator;
  readonly username: Locator;
  readonly password: Locator;
  readonly submit: Locator;
  readonly errorSummary: Locator;
  readonly skipLink: Locator;

  constructor(readonly page: Page) {
    this.heading = page.locator('main h1');
    this.username = page.getByLabel(t('login.username'), { exact: true });
    this.password = page.getByLabel(t('login.password'), { exact: true });
    this.submit = page.getByRole('button', { name: t('login.submit'), exact: true });
    this.errorSummary = page.locator('#form-errors');
    this.skipLink = page.getByRole('link', { name: t('app.skip_to_content') });
  }

  /** Waits until the browser shows the form (after the redirects from a service). */
  async waitUntilShown(): Promise<this> {
    await this.page.waitForURL(/\/interaction\/[^/]+(\/login)?$/);
    await this.username.waitFor();
    return this;
  }

  async signIn(username: string, password: string): Promise<void> {
    await this.username.fill(username);
    await this.password.fill(password);
    await this.submit.click();
  }

  /** After a refused attempt the same form comes back, at …/login. */
  async waitForError(): Promise<string> {
    await this.errorSummary.waitFor();
    return (await this.errorSummary.innerText()).trim();
  }
}
