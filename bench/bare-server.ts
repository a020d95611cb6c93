/**
 * The comparison point: oidc-provider (the same installed version) on its own, with no Koa
 * app around it, on the same kind of store as ours (our adapter factory: the in-process memory
 * store, or Redis at REDIS_URL), the same client registered, and its own keys made with jose.
 *
 *   node --import tsx bench/bare-server.ts     (bench/run.ts starts it; SIGTERM stops it)
 */
import { createServer as createHttpServer } from 'node:http';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';
import { Redis } from 'ioredis';
import Provider, { type Configuration } from 'oidc-provider';
import { createAdapterFactory } from '../src/adapters/index.js';
import { SERVICE_METADATA_PROPERTIES, settingsOfDefinition, toClientMetadata } from '../src/services/catalogue.js';
import { TTL } from '../src/provider/configuration.js';
import { announce, benchService, describeThreadpool, freePort, stopOnSignals } from './shared.js';

async function signingKey(alg: 'RS256' | 'ES256') {
  const { privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'RS256' ? { modulusLength: 2048 } : {}) });
  return { ...(await exportJWK(privateKey)), alg, use: 'sig', kid: `bare-${alg}` };
}

async function main(): Promise<void> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const redis = process.env.REDIS_URL ? new Redis(process.env.REDIS_URL, { maxRetriesPerRequest: 2 }) : undefined;
  if (redis) await redis.ping();

  const configuration: Configuration = {
    adapter: createAdapterFactory({ redis, keyPrefix: 'bench-bare:oidc:' }),
    clients: [{ ...toClientMetadata(benchService().id, settingsOfDefinition(benchService()).settings, url), client_secret: benchService().clientSecret }],
    extraClientMetadata: { properties: [...SERVICE_METADATA_PROPERTIES] },
    scopes: ['openid', 'offline_access', ...benchService().scopes.filter((s) => s !== 'openid')],
    jwks: { keys: [await signingKey('RS256'), await signingKey('ES256')] } as Configuration['jwks'],
    ttl: { ...TTL }, // ours' lifetimes, which also keeps the library from warning about its defaults
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    features: { clientCredentials: { enabled: true }, devInteractions: { enabled: false } },
  };
  const provider = new Provider(url, configuration);
  const server = createHttpServer(provider.callback());
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  stopOnSignals(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    redis?.disconnect();
  });

  announce({
    url,
    store: redis ? 'Redis (REDIS_URL)' : 'in-process memory store (src/adapters/memory.ts)',
    threadpool: describeThreadpool(),
    nodeEnv: process.env.NODE_ENV ?? '(unset)',
    pid: process.pid,
  });
}

main().catch((error: unknown) => {
  console.error('bench/bare-server: start-up failed:', error);
  process.exit(1);
});
