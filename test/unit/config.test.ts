import { ConfigError, loadConfig } from '../../src/config.js';

describe('configuration', () => {
  it('needs nothing for the embedded mode', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 3000, issuer: 'http://localhost:3000', proxy: { kind: 'none' }, demoSeed: true });
    expect(config.databaseUrl).toBeUndefined();
    expect(config.redis).toBeUndefined();
    expect(config.dataDir).toMatch(/\/data$/);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('switches to the servers and stops seeding demo accounts with DATABASE_URL', () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://u:p@db:5432/iam', REDIS_URL: 'redis://cache:6379', ISSUER: 'https://iam.example/' });
    expect(config).toMatchObject({ databaseUrl: 'postgres://u:p@db:5432/iam', redis: { urls: ['redis://cache:6379'], cluster: false }, issuer: 'https://iam.example', demoSeed: false });
  });

  it('takes a Redis Cluster as a list of seed nodes, and only when told it is one', () => {
    expect(loadConfig({ REDIS_URL: 'redis://:pw@a:7000, redis://:pw@b:7001', REDIS_CLUSTER: 'true' }).redis)
      .toEqual({ urls: ['redis://:pw@a:7000', 'redis://:pw@b:7001'], cluster: true });
    expect(() => loadConfig({ REDIS_URL: 'redis://a:7000,redis://b:7001' })).toThrow(/REDIS_CLUSTER=true/);
    expect(() => loadConfig({ REDIS_CLUSTER: 'true' })).toThrow(/needs REDIS_URL/);
    expect(() => loadConfig({ REDIS_URL: 'redis://a:7000,nope', REDIS_CLUSTER: 'true' })).toThrow(/REDIS_URL must be a URL/);
  });

  it('reads the inactivity policy, AgID art. 20 by default', () => {
    expect(loadConfig({}).inactivity).toEqual({ months: 24, noticeDays: [90, 30, 10, 1], dailyLimit: 1000 });
    expect(loadConfig({ INACTIVITY_MONTHS: '18', INACTIVITY_NOTICE_DAYS: '60, 7', INACTIVITY_DAILY_LIMIT: '50' }).inactivity)
      .toEqual({ months: 18, noticeDays: [60, 7], dailyLimit: 50 });
    for (const bad of [{ INACTIVITY_MONTHS: '0' }, { INACTIVITY_NOTICE_DAYS: '0' }, { INACTIVITY_NOTICE_DAYS: 'tre' }, { INACTIVITY_DAILY_LIMIT: '-1' }]) {
      expect(() => loadConfig(bad)).toThrow(new RegExp(Object.keys(bad)[0]!));
    }
  });

  it('reports every bad variable at once', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'abc', DATABASE_URL: 'mysql://x', REDIS_URL: 'nope', TRUST_PROXY: 'maybe' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).message;
    for (const name of ['PORT', 'DATABASE_URL', 'REDIS_URL', 'TRUST_PROXY']) expect(problems).toContain(name);
    expect(problems).toContain('postgres://');
  });

  it('never seeds demo accounts in production unless asked', () => {
    expect(loadConfig({ NODE_ENV: 'production' }).demoSeed).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production', DEMO_SEED: 'true' }).demoSeed).toBe(true);
  });

  it.each([
    ['false', { kind: 'none' }],
    ['0', { kind: 'none' }],
    ['true', { kind: 'hops', hops: 1 }],
    ['2', { kind: 'hops', hops: 2 }],
    ['10.0.0.0/8, 192.0.2.7,::1, 2001:db8::/32', { kind: 'addresses', addresses: ['10.0.0.0/8', '192.0.2.7', '::1', '2001:db8::/32'] }],
  ])('reads TRUST_PROXY=%s', (value, proxy) => {
    expect(loadConfig({ TRUST_PROXY: value }).proxy).toEqual(proxy);
  });

  it.each(['maybe', '10.0.0.0/33', '10.0.0.1,proxy.example', 'fe80::/129'])('refuses TRUST_PROXY=%s, saying what it accepts', (value) => {
    expect(() => loadConfig({ TRUST_PROXY: value })).toThrow(/TRUST_PROXY must be false, a number of proxy hops/);
  });

  it('takes a 32-byte KEYS_ENCRYPTION_KEY and refuses anything else', () => {
    const key = Buffer.alloc(32, 7);
    expect(loadConfig({ KEYS_ENCRYPTION_KEY: key.toString('base64') }).keysEncryptionKey).toEqual(key);
    expect(loadConfig({ KEYS_ENCRYPTION_KEY: key.toString('base64url') }).keysEncryptionKey).toEqual(key);
    expect(loadConfig({ KEYS_ENCRYPTION_KEY: key.toString('hex') }).keysEncryptionKey).toEqual(key);
    expect(() => loadConfig({ KEYS_ENCRYPTION_KEY: 'too-short' })).toThrow(/KEYS_ENCRYPTION_KEY must be 32 random bytes/);
  });

  it('wants an https ISSUER in production, but for a local trial', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', ISSUER: 'http://iam.example.it' })).toThrow(/ISSUER must be an https URL in production/);
    expect(loadConfig({ NODE_ENV: 'production', ISSUER: 'https://iam.example.it' }).issuer).toBe('https://iam.example.it');
    expect(loadConfig({ NODE_ENV: 'production', ISSUER: 'http://localhost:3000' }).issuer).toBe('http://localhost:3000');
  });
});
