import { Redis } from 'ioredis';

import { createAdapterFactory } from '../../src/adapters/index.js';
import {
  MAX_TTL_SECONDS,
  MemoryAdapter,
  clearMemoryStore,
  createMemoryStore,
  defaultMemoryStore,
  sweepMemoryStore,
} from '../../src/adapters/memory.js';
import { RedisAdapter } from '../../src/adapters/redis.js';
import { adapterContract, runId, uniqueId } from '../support/adapter-contract.js';

adapterContract('memory', () => {
  let now = Date.UTC(2030, 0, 1);
  const store = createMemoryStore({ now: () => now });
  const factory = createAdapterFactory({ memoryStore: store });
  return {
    adapterFor: factory,
    nowSeconds: () => Math.floor(now / 1000),
    elapse: async (seconds) => { now += seconds * 1000; },
    dispose: () => clearMemoryStore(store),
  };
});

describe('memory store', () => {
  afterEach(() => clearMemoryStore());

  it('is shared by adapters created apart, and cleared for tests', async () => {
    await new MemoryAdapter('Session').upsert('s1', { uid: 'u1' }, 60);
    expect(defaultMemoryStore.entries.size).toBe(1);
    expect(await createAdapterFactory()('Session').findByUid('u1')).toEqual({ uid: 'u1' });
    clearMemoryStore();
    expect(await new MemoryAdapter('Session').find('s1')).toBeUndefined();
    expect(defaultMemoryStore.sweeper).toBeUndefined();
  });

  it('sweeps expired entries and their indexes', async () => {
    let now = 0;
    const store = createMemoryStore({ now: () => now });
    const tokens = new MemoryAdapter('DeviceCode', store);
    await tokens.upsert('short', { userCode: 'A', grantId: 'g' }, 1);
    await tokens.upsert('long', { userCode: 'B', grantId: 'g' }, 60);
    now = 2_000;
    sweepMemoryStore(store);
    expect([...store.entries.keys()]).toEqual(['DeviceCode:long']);
    expect([...store.userCodes.keys()]).toEqual(['DeviceCode:B']);
    expect([...(store.grants.get('g') ?? [])]).toEqual(['DeviceCode:long']);
    clearMemoryStore(store);
  });

  it('caps an entry stored without expiresIn', async () => {
    let now = 0;
    const store = createMemoryStore({ now: () => now });
    const clients = new MemoryAdapter('Client', store);
    await clients.upsert('c', { client_id: 'c' });
    now = MAX_TTL_SECONDS * 1000;
    expect(await clients.find('c')).toBeUndefined();
    clearMemoryStore(store);
  });
});

const redisUrl = process.env['REDIS_URL'];

if (redisUrl) {
  const prefix = `test:adapter:${runId}:`;
  const client = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });

  const scanKeys = async (pattern: string): Promise<string[]> => {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    return keys;
  };

  beforeAll(() => client.connect());
  afterAll(async () => {
    const keys = await scanKeys(`${prefix}*`);
    if (keys.length > 0) await client.del(...keys);
    await client.quit();
  });

  adapterContract('redis', () => {
    const factory = createAdapterFactory({ redis: client, keyPrefix: prefix });
    return {
      adapterFor: factory,
      nowSeconds: () => Math.floor(Date.now() / 1000),
      elapse: (seconds) => new Promise((resolve) => setTimeout(resolve, seconds * 1000)),
    };
  });

  describe('redis adapter keys', () => {
    it('are chosen when a client is given', () => {
      expect(createAdapterFactory({ redis: client })('Session')).toBeInstanceOf(RedisAdapter);
      expect(createAdapterFactory()('Session')).toBeInstanceOf(MemoryAdapter);
    });

    it('all carry the prefix and a TTL', async () => {
      const factory = createAdapterFactory({ redis: client, keyPrefix: prefix });
      const grant = uniqueId('grant');
      await factory('Session').upsert(uniqueId('session'), { uid: uniqueId('uid') }, 600);
      await factory('DeviceCode').upsert(uniqueId('device'), { userCode: uniqueId('UC'), grantId: grant }, 600);
      await factory('AccessToken').upsert(uniqueId('at'), { grantId: grant }, 300);
      await factory('Client').upsert(uniqueId('client'), { client_id: 'c' });
      await factory('AccessToken').consume(uniqueId('at')).catch(() => undefined);
      const account = uniqueId('account');
      await factory('Session').upsert(uniqueId('session'), { uid: uniqueId('uid'), accountId: account }, 600);
      const revoked = uniqueId('grant');
      await factory('Grant').upsert(revoked, { accountId: account }, 900);
      await factory('RefreshToken').upsert(uniqueId('rt'), { grantId: revoked }, 900);
      await factory('Grant').revokeGrant(revoked);

      // Every id above contains runId, so a key written without the prefix would show here.
      const keys = await scanKeys(`*${runId}*`);
      expect(keys.length).toBeGreaterThanOrEqual(9);
      for (const key of keys) {
        expect(key.startsWith(prefix)).toBe(true);
        const ttl = await client.ttl(key);
        expect(ttl).toBeGreaterThan(0);
        expect(ttl).toBeLessThanOrEqual(MAX_TTL_SECONDS);
      }
      // The grant's set outlives its longest member.
      expect(await client.ttl(`${prefix}grant-members:{${grant}}`)).toBeGreaterThan(300);
      // So does the account's list, and a revoked grant stays marked longer than any token.
      expect(await client.ttl(`${prefix}account-entries:{${account}}`)).toBeGreaterThan(600);
      expect(await client.ttl(`${prefix}revoked-grant:{${revoked}}`)).toBeGreaterThan(900);
    });
  });
}
