import { randomInt } from 'node:crypto';
import { ADMIN_CONSOLE } from '../../src/services/consoles.js';
import { FormBrowser } from './browser.js';
import { submitLogin } from './oidc.js';
import { codeAt, secretOn, sendCode } from './second-factor.js';
import { testPerson, type TestServer } from './server.js';

/** A browser at an address of its own (the server trusts X-Forwarded-For). */
export const browserFor = (server: TestServer) => new FormBrowser(server.url, { 'x-forwarded-for': `198.51.${randomInt(256)}.${randomInt(1, 255)}` });

/** A new account with its password; with `admin`, the administrator role too. */
export async function testAccount(server: TestServer, options: { admin?: boolean } = {}) {
  const data = testPerson();
  const created = await server.deps.provisioning.provision(data);
  if (options.admin && (await server.deps.administrators.grant(created.username, { kind: 'system' })) !== 'granted') throw new Error('role not granted');
  return { ...created, password: data.password };
}

/** A new administrator signed in to the console, two factors enrolled on the way. */
export async function adminAtConsole(server: TestServer) {
  const admin = await testAccount(server, { admin: true });
  const b = browserFor(server);
  const login = await b.follow(await b.get(ADMIN_CONSOLE.path));
  const factor = await submitLogin(b, login, admin.username, admin.password);
  if (!factor.body.includes('Attiva la verifica in due passaggi')) throw new Error('no second-factor enrolment page');
  const home = await sendCode(b, factor, await codeAt(secretOn(factor.body)!));
  return { admin, b, home };
}
