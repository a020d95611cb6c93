import type { Browser, Page } from 'playwright-core';
import { t } from '../../src/i18n/index.js';
import { testPerson } from '../support/server.js';
import { ConsentPage } from './pages/consent-page.js';
import { DemoRpPage } from './pages/demo-rp-page.js';
import { ErrorPage } from './pages/error-page.js';
import { LoginPage } from './pages/login-page.js';
import { LogoutPage } from './pages/logout-page.js';
import { RefusalPage } from './pages/refusal-page.js';
import { axeViolations, describeViolations } from './support/axe.js';
import { openTab } from './support/browser.js';
import { startWorldAndBrowser, type World } from './support/world.js';

const REGISTRO = { id: 'registro-elettronico', name: 'Registro Elettronico' };
const SIDI = { id: 'sidi', name: 'SIDI', acceptedAccountTypes: ['mi' as const] };
const ESTERNO = { id: 'biblioteca-digitale', name: 'Biblioteca Digitale', firstParty: false };

let world: World;
let browser: Browser;

beforeAll(async () => {
  ({ world, browser } = await startWorldAndBrowser([REGISTRO, SIDI, ESTERNO]));
});
afterAll(async () => {
  await Promise.allSettled([browser?.close(), world?.close()]);
});

/** A fresh browser (axe is injected as an inline script, which the provider's CSP rightly forbids). */
async function withPage(run: (page: Page) => Promise<void>): Promise<void> {
  const { context, page } = await openTab(browser, { bypassCSP: true });
  try {
    await run(page);
  } finally {
    await context.close();
  }
}

async function expectNoViolations(page: Page, label: string): Promise<void> {
  const violations = await axeViolations(page);
  expect(describeViolations(label, violations)).toBe(`${label}: no violations`);
}

async function openLogin(page: Page, serviceId: string): Promise<LoginPage> {
  await new DemoRpPage(page, world.rps[serviceId]!).goto().then((rp) => rp.startSignIn());
  return new LoginPage(page).waitUntilShown();
}

async function newAccount() {
  const person = testPerson();
  const { username } = await world.server.deps.provisioning.provision(person);
  return { username, password: person.password };
}

describe('accessibility (axe-core, WCAG 2.x A/AA and best practices)', () => {
  it('home page', () => withPage(async (page) => {
    await page.goto(`${world.server.url}/`);
    await expectNoViolations(page, 'home');
  }));

  it('login page', () => withPage(async (page) => {
    await openLogin(page, REGISTRO.id);
    await expectNoViolations(page, 'login');
  }));

  it('login page with an error', () => withPage(async (page) => {
    const login = await openLogin(page, REGISTRO.id);
    await login.signIn('nessuno.inesistente', 'Sbagliata-Password-1!');
    await login.waitForError();
    await expectNoViolations(page, 'login with wrong password');
  }));

  it('login page with empty fields', () => withPage(async (page) => {
    const login = await openLogin(page, REGISTRO.id);
    await login.submit.click();
    await login.waitForError();
    expect(await login.username.getAttribute('aria-invalid')).toBe('true');
    expect(await login.password.getAttribute('aria-invalid')).toBe('true');
    await expectNoViolations(page, 'login with empty fields');
  }));

  it('consent page', () => withPage(async (page) => {
    const { username, password } = await newAccount();
    await (await openLogin(page, ESTERNO.id)).signIn(username, password);
    await new ConsentPage(page).waitUntilShown();
    await expectNoViolations(page, 'consent');
  }));

  it('refusal page', () => withPage(async (page) => {
    const { username, password } = await newAccount();
    await (await openLogin(page, SIDI.id)).signIn(username, password);
    await new RefusalPage(page).waitUntilShown();
    await expectNoViolations(page, 'service refusal');
  }));

  it('logout page and the page after it', () => withPage(async (page) => {
    const { username, password } = await newAccount();
    await (await openLogin(page, REGISTRO.id)).signIn(username, password);
    await new DemoRpPage(page, world.rps[REGISTRO.id]!).waitUntilSignedIn();

    const logout = await new LogoutPage(page).goto(world.server.url);
    await expectNoViolations(page, 'logout');
    await logout.confirm();
    await logout.waitUntilDone();
    await expectNoViolations(page, 'after logout');
  }));

  it('not-found page', () => withPage(async (page) => {
    const response = await page.goto(`${world.server.url}/pagina-che-non-esiste`);
    expect(response?.status()).toBe(404);
    expect(await new ErrorPage(page).waitUntilShown()).toBe(t('error.not_found'));
    await expectNoViolations(page, '404');
  }));

  it('expired sign-in page', () => withPage(async (page) => {
    await openLogin(page, REGISTRO.id);
    // The interaction cookie is what ties the browser to the sign-in; without it the sign-in is over.
    await page.context().clearCookies();
    await page.reload();
    expect(await new ErrorPage(page).waitUntilShown()).toBe(t('error.interaction_expired'));
    await expectNoViolations(page, 'expired interaction');
  }));
});

describe('keyboard use of the login page', () => {
  const focused = (page: Page) => page.evaluate(() => {
    const el = document.activeElement;
    return el ? (el.id || el.getAttribute('href') || el.textContent?.trim() || el.tagName) : null;
  });

  it('tabs to username, password and the submit button, in this order', () => withPage(async (page) => {
    await openLogin(page, REGISTRO.id);
    const stops: (string | null)[] = [];
    for (let i = 0; i < 12; i++) {
      await page.keyboard.press('Tab');
      stops.push(await focused(page));
    }
    const username = stops.indexOf('username');
    const password = stops.indexOf('password');
    const submit = stops.indexOf(t('login.submit'));
    expect(username).toBeGreaterThanOrEqual(0);
    expect([password - username, submit - password]).toEqual([1, 1]);
  }));

  it('reaches Password dimenticata?, Username dimenticato?, Registrati and the help desk after the form', () => withPage(async (page) => {
    await openLogin(page, REGISTRO.id);
    const stops: (string | null)[] = [];
    for (let i = 0; i < 30; i++) {
      await page.keyboard.press('Tab');
      stops.push(await focused(page));
    }
    const at = (prefix: string) => stops.findIndex((s) => s?.startsWith(prefix));
    const order = [t('login.submit'), '/recupero/password?', '/recupero/username?', '/registrazione?', 'https://www.istruzione.it/urp/'].map((p) => (p.startsWith('/') || p.startsWith('http') ? at(p) : stops.indexOf(p)));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  }));

  it('offers "skip to content" first, visible when focused, and it lands on the form', () => withPage(async (page) => {
    const login = await openLogin(page, REGISTRO.id);
    await page.keyboard.press('Tab');
    expect(await focused(page)).toBe('#main');
    const box = await login.skipLink.boundingBox();
    expect(box && box.width > 1 && box.height > 1).toBe(true);

    await page.keyboard.press('Enter');
    await page.waitForURL(/#main$/);
    await page.keyboard.press('Tab');
    expect(await focused(page)).toBe('username');
  }));
});
