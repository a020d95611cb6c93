import { ConfigError, loadConfig } from '../../src/config.js';

describe('configuration', () => {
  it('needs nothing for the embedded mode', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 3000, issuer: 'http://localhost:3000', trustProxy: false, demoSeed: true });
    expect(config.databaseUrl).toBeUndefined();
    expect(config.redisUrl).toBeUndefined();
    expect(config.dataDir).toMatch(/\/data$/);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('switches to the servers and stops seeding demo accounts with DATABASE_URL', () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://u:p@db:5432/iam', REDIS_URL: 'redis://cache:6379', ISSUER: 'https://iam.example/' });
    expect(config).toMatchObject({ databaseUrl: 'postgres://u:p@db:5432/iam', redisUrl: 'redis://cache:6379', issuer: 'https://iam.example', demoSeed: false });
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
});
