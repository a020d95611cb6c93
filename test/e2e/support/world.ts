import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import type { Browser } from 'playwright-core';
import { createDemoRp, type DemoRp } from '../../../examples/demo-rp/app.js';
import type { ServiceDefinition } from '../../../src/services/catalogue.js';
import { startTestServer, testService, type TestServer } from '../../support/server.js';
import { launchBrowser } from './browser.js';

export type ServiceSpec = Partial<ServiceDefinition> & Pick<ServiceDefinition, 'id' | 'name'>;

export interface World {
  server: TestServer;
  /** One demo relying party per service, by service id. */
  rps: Record<string, DemoRp>;
  /** What the demo RPs logged (rejected tokens, failed userinfo): printed by tests that fail on them. */
  rpLog: string[];
  close(): Promise<void>;
}

/** The scopes the demo RPs ask for: enough to show a name on the page. */
const RP_SCOPES = ['openid', 'profile', 'email'];

/**
 * The provider and a demo RP for each service, all on 127.0.0.1.
 *
 * The provider registers its clients when it is built, and a demo RP discovers
 * the provider when it starts: so the RP ports are reserved first and kept
 * bound while the provider starts (it cannot be handed one of them), then
 * released just before each RP binds the same port.
 */
export async function startWorld(specs: ServiceSpec[], options: { env?: Record<string, string>; rpScopes?: string[] } = {}): Promise<World> {
  const holders = await Promise.all(specs.map(() => holdFreePort()));
  const services = specs.map((spec, i) => {
    const base = `http://127.0.0.1:${holders[i]!.port}`;
    return testService({
      redirectUris: [`${base}/callback`],
      postLogoutRedirectUris: [`${base}/`],
      backchannelLogoutUri: `${base}/backchannel-logout`,
      scopes: ['openid', 'profile', 'email', 'phone', 'offline_access'],
      ...spec,
    });
  });

  let server: TestServer | undefined;
  const rps: Record<string, DemoRp> = {};
  const rpLog: string[] = [];
  const close = async () => {
    await Promise.allSettled(holders.map((h) => h.release()));
    await Promise.allSettled(Object.values(rps).map((rp) => rp.close()));
    await server?.close();
  };

  try {
    server = await startTestServer({ services, env: options.env });
    for (const [i, service] of services.entries()) {
      await holders[i]!.release();
      rps[service.id] = await createDemoRp({
        issuer: server.url,
        port: holders[i]!.port,
        client: {
          id: service.id,
          name: service.name,
          clientSecret: service.clientSecret!,
          redirectUris: service.redirectUris,
          postLogoutRedirectUris: service.postLogoutRedirectUris,
          backchannelLogoutUri: service.backchannelLogoutUri,
          scopes: options.rpScopes ?? RP_SCOPES,
        },
        log: (line) => rpLog.push(line),
      });
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { server, rps, rpLog, close };
}

interface PortHolder {
  port: number;
  release(): Promise<void>;
}

async function holdFreePort(): Promise<PortHolder> {
  const probe: NetServer = createNetServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', resolve);
  });
  const { port } = probe.address() as { port: number };
  let released: Promise<void> | undefined;
  return {
    port,
    release: () => (released ??= new Promise<void>((resolve) => probe.close(() => resolve()))),
  };
}

/**
 * The world and a browser, started side by side. If either fails the other is
 * closed before the error is thrown, so a failed beforeAll leaves no chromium behind.
 */
export async function startWorldAndBrowser(specs: ServiceSpec[], options: { env?: Record<string, string>; rpScopes?: string[] } = {}): Promise<{ world: World; browser: Browser }> {
  const [world, browser] = await Promise.allSettled([startWorld(specs, options), launchBrowser()]);
  if (world.status === 'fulfilled' && browser.status === 'fulfilled') return { world: world.value, browser: browser.value };
  await Promise.allSettled([
    world.status === 'fulfilled' ? world.value.close() : undefined,
    browser.status === 'fulfilled' ? browser.value.close() : undefined,
  ]);
  throw world.status === 'rejected' ? world.reason : (browser as PromiseRejectedResult).reason;
}
