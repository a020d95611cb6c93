import type { Locator, Page } from 'playwright-core';
import { t } from '../../../src/i18n/index.js';

/** Password dimenticata? (/recupero/password): username and codice fiscale. */
export class PasswordRecoveryPage {
  readonly heading: Locator;
  readonly username: Locator;
  readonly fiscalCode: Locator;
  readonly submit: Locator;

  constructor(readonly page: Page) {
    this.heading = page.locator('main h1');
    this.username = page.getByLabel(t('recovery.field.username'), { exact: true });
    this.fiscalCode = page.getByLabel(t('recovery.field.fiscal_code'), { exact: true });
    this.submit = page.getByRole('button', { name: t('recovery.password.submit'), exact: true });
  }

  async waitUntilShown(): Promise<this> {
    await this.page.waitForURL(/\/recupero\/password(\?|$)/);
    await this.fiscalCode.waitFor();
    return this;
  }

  async ask(username: string, fiscalCode: string): Promise<void> {
    await this.username.fill(username);
    await this.fiscalCode.fill(fiscalCode);
    await this.submit.click();
  }
}

/** The page the link in the message opens: the new password twice, and the rules. */
export class NewPasswordPage {
  readonly heading: Locator;
  readonly rules: Locator;
  readonly next: Locator;
  readonly confirm: Locator;
  readonly submit: Locator;

  constructor(readonly page: Page) {
    this.heading = page.locator('main h1');
    this.rules = page.locator('#password-rules li');
    this.next = page.getByLabel(t('gate.password_change.next'), { exact: true });
    this.confirm = page.getByLabel(t('gate.password_change.confirm'), { exact: true });
    this.submit = page.getByRole('button', { name: t('recovery.reset.submit'), exact: true });
  }

  async open(link: string): Promise<this> {
    await this.page.goto(link);
    await this.next.waitFor();
    return this;
  }

  async choose(password: string): Promise<void> {
    await this.next.fill(password);
    await this.confirm.fill(password);
    await this.submit.click();
  }
}

/** The pages that only tell something: sent, done, MI accounts, problems with a link. */
export class RecoveryMessagePage {
  readonly heading: Locator;
  readonly message: Locator;
  /** the page's one thing to do, when it has one (Accedi a …, Chiedi un nuovo link) */
  readonly next: Locator;

  constructor(readonly page: Page) {
    this.heading = page.locator('main h1');
    this.message = page.locator('main .alert');
    this.next = page.locator('main a.btn-primary');
  }

  async waitForHeading(text: string): Promise<this> {
    await this.page.locator('main h1', { hasText: text }).waitFor();
    return this;
  }
}
