import { randomInt } from 'node:crypto';
import { OFFICER_CONSOLE } from '../../src/services/consoles.js';
import { FormBrowser } from './browser.js';
import { submitLogin } from './oidc.js';
import { codeAt, secretOn, sendCode } from './second-factor.js';
import { testMiUsername, testPerson, type TestServer } from './server.js';

/** A security officer (an MI account, DSGA with the profile at `school`) at SIDI Gestione Utenze, two factors enrolled on the way. */
export async function signedInOfficer(server: TestServer, school: string) {
  const data = testPerson({
    type: 'mi',
    username: testMiUsername(),
    institutionalEmail: { address: `o.${randomInt(1e9).toString(36)}@istruzione.it`, state: 'ATTIVA' },
    schools: [{ schoolCode: school, role: 'dsga', securityOfficer: true }],
  });
  const officer = await server.deps.provisioning.provision(data);
  const browser = new FormBrowser(server.url, { 'x-forwarded-for': `198.51.${randomInt(256)}.${randomInt(1, 255)}` });
  const login = await browser.follow(await browser.get(OFFICER_CONSOLE.path));
  const factor = await submitLogin(browser, login, officer.username, data.password);
  const home = await sendCode(browser, factor, await codeAt(secretOn(factor.body)!));
  if (home.url !== `${server.url}${OFFICER_CONSOLE.path}`) throw new Error(`the officer did not reach the console: ${home.url}`);
  return { officer, browser };
}
