import type { Locator, Page } from 'playwright-core';
import type { DemoRp } from '../../../examples/demo-rp/app.js';

/** A school service (the demo relying party): Accedi, the claims it received, Esci. */
export class DemoRpPage {
  /** The notice on every page that this is a demonstration, not the real service. */
  readonly demoBanner: Locator;
  readonly heading: Locator;
  readonly signInLink: Locator;
  readonly signOutButton: Locator;
  readonly notice: Locator;
  readonly errorTitle: Locator;
  readonly errorCode: Locator;

  constructor(readonly page: Page, readonly rp: DemoRp) {
    this.demoBanner = page.getByRole('region', { name: 'Avviso', exact: true });
    this.heading = page.locator('header h1');
    this.signInLink = page.getByRole('link', { name: 'Accedi', exact: true });
    this.signOutButton = page.getByRole('button', { name: 'Esci', exact: true });
    this.notice = page.locator('[role="status"]');
    this.errorTitle = page.locator('main h2');
    this.errorCode = page.locator('dl.error-details code');
  }

  async goto(): Promise<this> {
    await this.page.goto(`${this.rp.url}/`);
    return this;
  }

  async startSignIn(): Promise<void> {
    await this.signInLink.click();
  }

  async waitUntilSignedIn(): Promise<this> {
    await this.page.waitForURL(`${this.rp.url}/`);
    await this.signOutButton.waitFor();
    return this;
  }

  async waitUntilSignedOut(): Promise<this> {
    await this.page.waitForURL((url) => url.origin === new URL(this.rp.url).origin && url.pathname === '/');
    await this.signInLink.waitFor();
    return this;
  }

  /** A claim as the service received it from userinfo. */
  async userinfoClaim(name: string): Promise<string> {
    const row = this.page.locator('table', { hasText: 'Dati da userinfo' }).locator('tr', {
      has: this.page.locator(`th code`, { hasText: new RegExp(`^${name}$`) }),
    });
    return (await row.locator('td').innerText()).trim();
  }

  /** Esci is a form (POST with the session's CSRF token), never a link. */
  async signOut(): Promise<void> {
    await this.signOutButton.click();
  }

  /** The RP's page for a sign-in that came back with an OAuth error. */
  async waitForProviderError(): Promise<string> {
    await this.page.waitForURL((url) => url.origin === new URL(this.rp.url).origin && url.pathname === '/callback');
    await this.errorCode.waitFor();
    return (await this.errorCode.innerText()).trim();
  }
}
