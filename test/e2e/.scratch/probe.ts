import { createRequire } from 'node:module';
import { launchBrowser, openTab, screenshotPath, MOBILE } from '../support/browser.js';
import { startWorld } from '../support/world.js';
import { DemoRpPage } from '../pages/demo-rp-page.js';
import { LoginPage } from '../pages/login-page.js';
const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const world = await startWorld([{ id: 'registro-elettronico', name: 'Registro Elettronico' }]);
const browser = await launchBrowser();
try {
  for (const [name, viewport] of [['desktop', { width: 1280, height: 900 }], ['mobile', MOBILE]] as const) {
    const { page, problems, context } = await openTab(browser, { bypassCSP: true, viewport });
    await new DemoRpPage(page, world.rps['registro-elettronico']!).goto().then((r) => r.startSignIn());
    const login = await new LoginPage(page).waitUntilShown();
    if (process.env.ERR) { await login.signIn('x.y', 'z'); await login.waitForError(); }
    await page.evaluate(() => document.fonts.ready);
    await page.screenshot({ path: screenshotPath(`probe-${name}`), fullPage: true });
    await page.addScriptTag({ path: axePath });
    const r = await page.evaluate(async () => { const res = await (window as any).axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a','wcag2aa','wcag21a','wcag21aa','wcag22aa','best-practice'] } });
      return { passes: res.passes.map((p: any) => p.id), incomplete: res.incomplete.map((p: any) => [p.id, p.nodes.map((n: any) => n.target.join(' ') + ' :: ' + (n.failureSummary ?? '')).slice(0,5)]), violations: res.violations.map((v: any) => v.id) }; });
    console.log(name, JSON.stringify(r, null, 1));
    console.log(problems);
    const fonts = await page.evaluate(() => [...document.fonts].map((f) => `${f.family} ${f.weight} ${f.status}`));
    console.log(fonts, await page.evaluate(() => getComputedStyle(document.body).fontFamily));
    console.log(await page.evaluate(() => [document.documentElement.scrollWidth, innerWidth]));
    await context.close();
  }
} finally { await browser.close(); await world.close(); }
