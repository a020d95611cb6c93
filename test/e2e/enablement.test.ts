import { mkdtempSync } from 'node:fs';
import { randomInt } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { t } from '../../src/i18n/index.js';
import { ACR } from '../../src/accounts/acr.js';
import { formFields } from '../support/browser.js';
import { signedInOfficer } from '../support/officer.js';
import { messagesTo } from '../support/outbox.js';
import { testPerson } from '../support/server.js';
import { DemoRpPage } from './pages/demo-rp-page.js';
import { LoginPage } from './pages/login-page.js';
import { axeViolations, describeViolations } from './support/axe.js';
import { openTab } from './support/browser.js';
import { startWorldAndBrowser, type World } from './support/world.js';

const ISTANZE = { id: 'istanze-online', name: 'Istanze OnLine', enablementRequired: true };

let world: World;
let browser: Browser;
const dataDir = mkdtempSync(join(tmpdir(), 'iam-e2e-enablement-'));

beforeAll(async () => {
  ({ world, browser } = await startWorldAndBrowser([ISTANZE], { env: { DATA_DIR: dataDir } }));
});
afterAll(async () => {
  await Promise.allSettled([browser?.close(), world?.close()]);
});

async function noViolations(page: Page, label: string) {
  expect(describeViolations(label, await axeViolations(page))).toBe(`${label}: no violations`);
}

async function temporaryCode(address: string): Promise<string> {
  await world.server.deps.outgoingMail.drain();
  const code = /\b(\d{10})\b/.exec(messagesTo(join(dataDir, 'outbox'), address).at(-1)?.text ?? '')?.[1];
  if (!code) throw new Error(`no temporary code for ${address}`);
  return code;
}

const heading = (page: Page, text: string) => page.locator('main h1', { hasText: text }).waitFor();

describe('service enablement in a real browser', () => {
  it('Istanze OnLine the first time: the form, the modulo di adesione, the code from the mail; an officer confirms; the personal code; then Presenta istanza confirms with it', async () => {
    const person = testPerson();
    const account = await world.server.deps.provisioning.provision(person);
    const { context, page } = await openTab(browser, { bypassCSP: true });
    try {
      const istanze = await new DemoRpPage(page, world.rps[ISTANZE.id]!).goto();
      await istanze.startSignIn();
      await new LoginPage(page).waitUntilShown().then((login) => login.signIn(account.username, person.password));
      await heading(page, t('enablement.title'));
      await noViolations(page, 'enablement form');
      await page.getByLabel(t('enablement.field.type')).selectOption('passaporto');
      await page.getByLabel(t('enablement.field.number')).fill('YA1234567');
      await page.getByLabel(t('enablement.field.issuer')).fill('Questura di Roma');
      await page.getByLabel(t('enablement.field.expiry')).fill(`01/01/${new Date().getFullYear() + 3}`);
      await page.locator('label[for="contacts"]').click();
      await page.getByRole('button', { name: t('enablement.request.submit') }).click();

      await page.getByLabel(t('enablement.code.field')).waitFor();
      await noViolations(page, 'temporary code');
      const download = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: t('enablement.download') }).click()]).then(([d]) => d);
      expect(download.suggestedFilename()).toMatch(/^modulo-adesione-IST-\d{4}-\d{6}\.pdf$/);
      await page.getByLabel(t('enablement.code.field')).fill(await temporaryCode(account.personalEmail!));
      await page.getByRole('button', { name: t('enablement.code.submit') }).click();
      await heading(page, t('enablement.waiting.title'));
      await noViolations(page, 'waiting for identification');

      // at a school: an officer finds the request by CF and confirms it
      const { browser: officer } = await signedInOfficer(world.server, `RMIC${randomInt(10000, 99999)}Z`);
      const school = /scuole\/([A-Z0-9]+)/.exec((await officer.follow(await officer.get('/sidi/gestione-utenze'))).body)![1]!;
      const search = formFields((await officer.follow(await officer.get(`/sidi/gestione-utenze/scuole/${school}/abilitazioni`))).body, /\/ricerca$/);
      const found = await officer.follow(await officer.post(search.action, { ...search.fields, codice_fiscale: account.fiscalCode }));
      const confirm = formFields(found.body, /\/conferma$/);
      expect((await officer.follow(await officer.post(confirm.action, { ...confirm.fields, verificato: 'si' }))).body).toContain('Identificazione confermata');

      // the next sign-in: the person's own personal code, then the service
      await istanze.goto();
      await istanze.startSignIn();
      await heading(page, t('enablement.personal.title'));
      await noViolations(page, 'personal code');
      await page.getByLabel(t('enablement.personal.field'), { exact: true }).fill('48151623');
      await page.getByLabel(t('enablement.personal.confirm_field')).fill('48151623');
      await page.getByRole('button', { name: t('enablement.personal.submit') }).click();
      await istanze.waitUntilSignedIn();

      // Presenta istanza: the personal code asked inside the session; the ID token says so
      await page.getByRole('link', { name: /Presenta istanza/ }).click();
      await heading(page, t('enablement.step_up.title'));
      await noViolations(page, 'step-up');
      await page.getByLabel(t('enablement.step_up.field')).fill('48151623');
      await page.getByRole('button', { name: t('enablement.step_up.submit'), exact: true }).click();
      await istanze.waitUntilSignedIn();
      expect(await page.locator('dl.auth').innerText()).toContain(ACR.personalCode);
    } finally {
      await context.close();
    }
  });
});
