import { randomUUID } from 'node:crypto';

import { Redis } from 'ioredis';
import type { Adapter, AdapterPayload } from 'oidc-provider';

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

/** What the contract needs from a backend: adapters that share one store, and time. */
interface Harness {
  adapterFor(model: string): Adapter;
  /** Lets `seconds` pass as far as the store can tell (fake clock or a real wait). */
  elapse(seconds: number): Promise<void>;
  nowSeconds(): number;
  dispose?(): void;
}

let sequence = 0;
const runId = randomUUID().slice(0, 8);
/** Ids unique across runs, so a shared Redis never mixes two runs. */
const uniqueId = (label: string) => `${label}-${runId}-${++sequence}`;

function adapterContract(name: string, createHarness: () => Harness): void {
  describe(`${name} adapter contract`, () => {
    let harness: Harness;
    let adapterFor: Harness['adapterFor'];

    beforeEach(() => {
      harness = createHarness();
      adapterFor = (model) => harness.adapterFor(model);
    });
    afterEach(() => harness.dispose?.());

    it('finds what it stored, unchanged', async () => {
      const id = uniqueId('at');
      const payload: AdapterPayload = {
        accountId: 'user-1',
        clientId: 'client-1',
        scope: 'openid profile',
        amr: [],
        claims: { id_token: { acr: { values: ['x', 'y'] } } },
        exp: 1_900_000_000,
        extra: { nested: { flag: true, none: null } },
        kind: 'AccessToken',
        jti: id,
      };
      await adapterFor('AccessToken').upsert(id, payload, 60);
      expect(await adapterFor('AccessToken').find(id)).toEqual(payload);
    });

    it('returns undefined for an unknown id', async () => {
      expect(await adapterFor('AccessToken').find(uniqueId('missing'))).toBeUndefined();
    });

    it('keeps models apart', async () => {
      const id = uniqueId('shared-id');
      await adapterFor('AccessToken').upsert(id, { kind: 'AccessToken' }, 60);
      expect(await adapterFor('RefreshToken').find(id)).toBeUndefined();
    });

    it('replaces an entry on upsert, dropping a previous consume', async () => {
      const id = uniqueId('code');
      const codes = adapterFor('AuthorizationCode');
      await codes.upsert(id, { kind: 'AuthorizationCode', scope: 'openid' }, 60);
      await codes.consume(id);
      await codes.upsert(id, { kind: 'AuthorizationCode', scope: 'openid email' }, 60);
      expect(await codes.find(id)).toEqual({ kind: 'AuthorizationCode', scope: 'openid email' });
    });

    it('does not let a caller change the stored payload', async () => {
      const id = uniqueId('interaction');
      const payload: AdapterPayload = { kind: 'Interaction', params: { a: 1 } };
      const interactions = adapterFor('Interaction');
      await interactions.upsert(id, payload, 60);
      payload.params = { a: 2 };
      const found = await interactions.find(id);
      if (found?.params) found.params['a'] = 3;
      expect(await interactions.find(id)).toEqual({ kind: 'Interaction', params: { a: 1 } });
    });

    it('forgets entries once expiresIn has passed', async () => {
      const id = uniqueId('session');
      const uid = uniqueId('uid');
      const sessions = adapterFor('Session');
      await sessions.upsert(id, { kind: 'Session', uid }, 1);
      expect(await sessions.find(id)).toBeDefined();
      await harness.elapse(1.2);
      expect(await sessions.find(id)).toBeUndefined();
      expect(await sessions.findByUid(uid)).toBeUndefined();
    });

    it('keeps an entry stored without expiresIn', async () => {
      const id = uniqueId('client');
      await adapterFor('Client').upsert(id, { client_id: id });
      expect(await adapterFor('Client').find(id)).toEqual({ client_id: id });
    });

    it('finds a Session by uid', async () => {
      const id = uniqueId('session');
      const uid = uniqueId('uid');
      await adapterFor('Session').upsert(id, { kind: 'Session', uid, accountId: 'u' }, 60);
      expect(await adapterFor('Session').findByUid(uid)).toEqual({ kind: 'Session', uid, accountId: 'u' });
      expect(await adapterFor('Session').findByUid(uniqueId('uid'))).toBeUndefined();
    });

    it('finds a DeviceCode by user code', async () => {
      const id = uniqueId('device');
      const userCode = uniqueId('UC');
      await adapterFor('DeviceCode').upsert(id, { kind: 'DeviceCode', userCode }, 60);
      expect(await adapterFor('DeviceCode').findByUserCode(userCode)).toEqual({ kind: 'DeviceCode', userCode });
      expect(await adapterFor('DeviceCode').findByUserCode(uniqueId('UC'))).toBeUndefined();
    });

    it('marks an entry consumed with the current epoch seconds', async () => {
      const id = uniqueId('code');
      const codes = adapterFor('AuthorizationCode');
      await codes.upsert(id, { kind: 'AuthorizationCode', grantId: 'g' }, 60);
      const before = harness.nowSeconds();
      await codes.consume(id);
      const found = await codes.find(id);
      expect(found).toMatchObject({ kind: 'AuthorizationCode', grantId: 'g' });
      expect(typeof found?.consumed).toBe('number');
      expect(found?.consumed).toBeGreaterThanOrEqual(before);
      expect(found?.consumed).toBeLessThanOrEqual(harness.nowSeconds());
    });

    it('consuming an unknown id creates nothing', async () => {
      const id = uniqueId('code');
      await adapterFor('AuthorizationCode').consume(id);
      expect(await adapterFor('AuthorizationCode').find(id)).toBeUndefined();
    });

    it('destroys an entry and its lookups', async () => {
      const id = uniqueId('session');
      const uid = uniqueId('uid');
      const sessions = adapterFor('Session');
      await sessions.upsert(id, { kind: 'Session', uid }, 60);
      await sessions.destroy(id);
      expect(await sessions.find(id)).toBeUndefined();
      expect(await sessions.findByUid(uid)).toBeUndefined();
      await expect(sessions.destroy(id)).resolves.toBeUndefined();
    });

    it("revokes every grantable entry of a grant, and nothing of another grant's", async () => {
      const grant = uniqueId('grant');
      const otherGrant = uniqueId('grant');
      const revoked = [
        ['AccessToken', uniqueId('at')],
        ['RefreshToken', uniqueId('rt')],
        ['AuthorizationCode', uniqueId('code')],
        ['DeviceCode', uniqueId('device')],
        ['BackchannelAuthenticationRequest', uniqueId('ciba')],
      ] as const;
      const kept = [
        ['AccessToken', uniqueId('at'), otherGrant],
        ['RefreshToken', uniqueId('rt'), otherGrant],
        // Not grantable: the provider destroys the Grant itself, and interactions just expire.
        ['Grant', grant, undefined],
        ['Interaction', uniqueId('interaction'), grant],
      ] as const;
      for (const [model, id] of revoked) await adapterFor(model).upsert(id, { kind: model, grantId: grant }, 60);
      for (const [model, id, grantId] of kept) await adapterFor(model).upsert(id, { kind: model, grantId }, 60);

      // The provider calls this on each grantable model's adapter in parallel.
      await Promise.all(['AccessToken', 'RefreshToken', 'AuthorizationCode'].map(
        (model) => adapterFor(model).revokeByGrantId(grant),
      ));

      for (const [model, id] of revoked) expect(await adapterFor(model).find(id)).toBeUndefined();
      for (const [model, id] of kept) expect(await adapterFor(model).find(id)).toBeDefined();
      await expect(adapterFor('AccessToken').revokeByGrantId(uniqueId('grant'))).resolves.toBeUndefined();
    });
  });
}

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
      await factory('AccessToken').consume(uniqueId('at'));

      // Every id above contains runId, so a key written without the prefix would show here.
      const keys = await scanKeys(`*${runId}*`);
      expect(keys.length).toBeGreaterThanOrEqual(6);
      for (const key of keys) {
        expect(key.startsWith(prefix)).toBe(true);
        const ttl = await client.ttl(key);
        expect(ttl).toBeGreaterThan(0);
        expect(ttl).toBeLessThanOrEqual(MAX_TTL_SECONDS);
      }
      // The grant's set outlives its longest member.
      expect(await client.ttl(`${prefix}grant-members:${grant}`)).toBeGreaterThan(300);
    });
  });
}
