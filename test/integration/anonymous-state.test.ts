import { randomInt } from 'node:crypto';
import { FormBrowser } from '../support/browser.js';
import { authorizationUrl, relyingParty, signIn, type RelyingParty } from '../support/oidc.js';
import { startTestServer, testPerson, testService, type TestServer } from '../support/server.js';

let server: TestServer;
let rp: RelyingParty;

beforeAll(async () => {
  server = await startTestServer({
    services: [testService({ id: 'servizio-inondato', name: 'Servizio Inondato' })],
    // each browser comes from an address of its own, named by the (trusted) proxy
    env: { TRUST_PROXY: '1', SIGN_IN_STARTS_PER_MINUTE: '5', MEMORY_STORE_MAX_INTERACTIONS: '100' },
  });
  rp = await relyingParty(server.url, server.services[0]!);
});
afterAll(() => server.close());

const randomAddress = () => `203.0.${randomInt(256)}.${randomInt(1, 255)}`;

/** A new authorization request, as a new browser from `address`: the status, the body, and the Interaction it left (if any). */
async function startFrom(address: string) {
  const response = await fetch((await authorizationUrl(rp)).url, { headers: { 'x-forwarded-for': address, accept: 'text/html' }, redirect: 'manual' });
  const uid = /iam_interaction=[^;]*;[^,]*path=\/interaction\/([\w-]+)/i.exec(response.headers.getSetCookie().join(','))?.[1];
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body: await response.text(), uid };
}

describe('what anonymous requests can make the provider store', () => {
  it('lets one address start a bounded number of sign-ins a minute, deletes the rest at once, and leaves everyone else alone', async () => {
    const flooder = randomAddress();
    const answers = await Promise.all(Array.from({ length: 20 }, () => startFrom(flooder)));
    const started = answers.filter((a) => a.status === 303);
    const refused = answers.filter((a) => a.status === 429);
    expect(started).toHaveLength(5);
    expect(refused).toHaveLength(15);
    expect(refused[0]!.body).toContain('Troppi accessi avviati da questa rete in poco tempo');
    expect(Number(refused[0]!.retryAfter)).toBeGreaterThan(0);
    // what was refused is not kept (those that came once the limit was known left none at all)
    for (const answer of refused) {
      if (answer.uid) expect(await server.provider.Interaction.find(answer.uid)).toBeUndefined();
    }
    expect(await server.provider.Interaction.find(started[0]!.uid!)).toBeDefined();

    // once the address is known to be over its limit, the provider is not even asked
    const late = await startFrom(flooder);
    expect(late.status).toBe(429);
    expect(late.uid).toBeUndefined();
    expect(late.body).toContain('Troppi accessi avviati da questa rete in poco tempo');

    // another address signs in as usual
    const person = testPerson();
    const account = await server.deps.provisioning.provision(person);
    const other = new FormBrowser(server.url, { 'x-forwarded-for': randomAddress() });
    expect((await signIn(other, rp, { username: account.username, password: person.password })).page.url).toContain('code=');
  });

  it('lets a browser with an SSO session through from an address over its limit: it stores nothing new', async () => {
    const address = randomAddress();
    const person = testPerson();
    const account = await server.deps.provisioning.provision(person);
    const browser = new FormBrowser(server.url, { 'x-forwarded-for': address });
    expect((await signIn(browser, rp, { username: account.username, password: person.password })).page.url).toContain('code=');
    await Promise.all(Array.from({ length: 6 }, () => startFrom(address)));
    expect((await startFrom(address)).status).toBe(429);
    expect((await signIn(browser, rp, { username: '', password: '' })).page.url).toContain('code=');
  });

  (process.env.REDIS_URL ? it.skip : it)('refuses new sign-ins with a clear page when the in-process store holds its maximum', async () => {
    const answers: Awaited<ReturnType<typeof startFrom>>[] = [];
    for (let i = 0; i < 40; i++) {
      answers.push(...(await Promise.all(Array.from({ length: 4 }, () => startFrom(randomAddress())))));
      if (answers.some((a) => a.status === 503)) break;
    }
    const full = answers.find((a) => a.status === 503);
    expect(full).toBeDefined();
    expect(full!.body).toContain('Servizio momentaneamente sovraccarico');
    expect(full!.retryAfter).toMatch(/^\d+$/);
    // never more than the cap were started
    expect(answers.filter((a) => a.status === 303).length).toBeLessThanOrEqual(100);
  });
});
