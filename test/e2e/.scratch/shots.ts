import { launchBrowser, openTab, MOBILE } from '../support/browser.js';
import { startWorld } from '../support/world.js';
import { testPerson } from '../../support/server.js';
import { DemoRpPage } from '../pages/demo-rp-page.js';
import { LoginPage } from '../pages/login-page.js';
import { LogoutPage } from '../pages/logout-page.js';
const world = await startWorld([{ id: 'registro-elettronico', name: 'Registro Elettronico' }, { id: 'sidi', name: 'SIDI', acceptedAccountTypes: ['mi'] }, { id: 'biblio', name: 'Biblioteca Digitale', firstParty: false }]);
const browser = await launchBrowser();
const vp = process.env.MOBILE ? MOBILE : { width: 1280, height: 900 };
const shot = async (page: any, name: string) => { await page.evaluate(() => document.fonts.ready); await page.screenshot({ path: `/tmp/shot-${name}${process.env.MOBILE ? '-m' : ''}.png`, fullPage: true }); };
try {
  const person = testPerson(); const { username } = await world.server.deps.provisioning.provision(person);
  { const { page, context } = await openTab(browser, { viewport: vp });
    await page.goto(world.server.url + '/'); await shot(page, 'home');
    console.log(await page.evaluate(() => ['.it-header-slim-wrapper-content', '.it-brand-title', 'main h1', 'main', '.it-footer h2'].map((s) => s + ' ' + document.querySelector(s)?.getBoundingClientRect().left)));
    await page.goto(world.server.url + '/nope'); await shot(page, '404');
    await new DemoRpPage(page, world.rps['registro-elettronico']!).goto().then((r) => r.startSignIn());
    const l = await new LoginPage(page).waitUntilShown(); await l.submit.click(); await l.waitForError(); await shot(page, 'login-empty');
    await l.signIn(username, 'wrong'); await l.waitForError(); await shot(page, 'login-wrong');
    await l.signIn(username, person.password); await new DemoRpPage(page, world.rps['registro-elettronico']!).waitUntilSignedIn(); await shot(page, 'rp');
    await new DemoRpPage(page, world.rps['sidi']!).goto().then((r) => r.startSignIn()); await page.getByRole('button', { name: 'Torna al servizio' }).waitFor(); await shot(page, 'refusal');
    await new DemoRpPage(page, world.rps['biblio']!).goto().then((r) => r.startSignIn()); await page.getByRole('button', { name: 'Acconsento' }).waitFor(); await shot(page, 'consent');
    const lo = await new LogoutPage(page).goto(world.server.url); await shot(page, 'logout'); await lo.confirm(); await lo.waitUntilDone(); await shot(page, 'logout-done');
    await context.close(); }
} finally { await browser.close(); await world.close(); }
