import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FormBrowser } from '../support/browser.js';
import { authorizationUrl, refreshRequest, relyingParty, type RelyingParty } from '../support/oidc.js';
import { signInAgainWithinSeconds, signInWithRefreshToken, timed } from '../support/outage.js';
import { freePort } from '../support/ports.js';
import { startTestServer, testPerson, testService, type TestServer } from '../support/server.js';

// A Redis of this test's own (redis-server on loopback, with an append-only file so that
// what it held survives the restart), stopped and started again under a running provider.

const redisDir = mkdtempSync(join(tmpdir(), 'iam-redis-outage-'));
let redisPort: number;
let redis: ChildProcess | undefined;
let server: TestServer;
let rp: RelyingParty;

async function startRedis(): Promise<void> {
  redis = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(redisPort), '--dir', redisDir, '--appendonly', 'yes', '--save', ''], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  redis.stdout!.on('data', (d) => (out += d));
  for (let i = 0; i < 100 && !out.includes('Ready to accept connections'); i++) await new Promise((r) => setTimeout(r, 50));
  if (!out.includes('Ready to accept connections')) throw new Error(`redis-server did not start:\n${out}`);
}

async function stopRedis(): Promise<void> {
  if (!redis || redis.exitCode !== null) return;
  const exited = once(redis, 'exit');
  redis.kill('SIGTERM'); // a clean shutdown writes the append-only file
  await exited;
}

beforeAll(async () => {
  redisPort = await freePort();
  await startRedis();
  server = await startTestServer({
    services: [testService({ id: 'servizio-guasto', name: 'Servizio Guasto' })],
    env: { REDIS_URL: `redis://127.0.0.1:${redisPort}` },
  });
  rp = await relyingParty(server.url, server.services[0]!);
});
afterAll(async () => {
  await server?.close();
  await stopRedis();
});

describe('Redis outage', () => {
  it('answers 503 at once while Redis is down, stays up, and carries on with every session when it returns', async () => {
    const person = testPerson();
    const account = await server.deps.provisioning.provision(person);
    const browser = new FormBrowser(server.url);
    const tokens = await signInWithRefreshToken(browser, rp, { username: account.username, password: person.password });

    await stopRedis();

    // a page: the authorization request of a signed-in browser (its session is in Redis)
    const page = await timed(async () => browser.follow(await browser.get((await authorizationUrl(rp)).url.toString())));
    expect(page.value.response.status).toBe(503);
    expect(page.value.response.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(page.value.body).toContain('momentaneamente non disponibile');
    expect(page.ms).toBeLessThan(3000);

    // a protocol endpoint: JSON, 503, retry later
    const refresh = await timed(() => refreshRequest(rp, tokens.refresh_token!));
    expect(refresh.value.status).toBe(503);
    expect(refresh.value.body.error).toBe('temporarily_unavailable');
    expect(refresh.ms).toBeLessThan(3000);

    // what needs no Redis still works, and readiness says what is missing
    expect((await fetch(`${server.url}/.well-known/openid-configuration`)).status).toBe(200);
    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ checks: { redis: false } });

    await startRedis();

    // within seconds of its return, the same browser is still signed in
    expect(await signInAgainWithinSeconds(browser, rp)).toContain('code=');
    const refreshed = await refreshRequest(rp, tokens.refresh_token!);
    expect(refreshed.status).toBe(200);
  });
});
