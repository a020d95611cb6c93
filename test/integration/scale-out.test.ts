import { randomBytes, randomInt } from 'node:crypto';

import { Cluster } from 'ioredis';

import { createAdapterFactory } from '../../src/adapters/index.js';
import { createRedisClient } from '../../src/adapters/redis-client.js';
import { adapterContract } from '../support/adapter-contract.js';
import { FormBrowser } from '../support/browser.js';
import { authorizationUrl, client, redeem, refreshRequest, relyingParty, signIn, startAuthorization, submitLogin, tokenRequest, type RelyingParty } from '../support/oidc.js';
import { sql } from 'kysely';
import { secretDigest } from '../../src/services/secrets.js';
import { freePort } from '../support/ports.js';
import { startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres.js';
import { startRedisCluster, type RedisClusterUnderTest } from '../support/redis-cluster.js';
import { startRoundRobin, type RoundRobin } from '../support/round-robin.js';
import { startTestServer, testPerson, testService, type TestServer } from '../support/server.js';

// Two provider instances behind a round-robin balancer, on one PostgreSQL (DATABASE_URL, or
// one of this test's own on the embedded run) and a three-node Redis Cluster this test starts.

let cluster: RedisClusterUnderTest;
let postgres: PrivatePostgres | undefined;
let balancer: RoundRobin;
let instances: TestServer[] = [];
let rp: RelyingParty;
let clusterClient: Cluster;

beforeAll(async () => {
  cluster = await startRedisCluster();
  clusterClient = createRedisClient({ urls: cluster.urls, cluster: true }) as Cluster;
  await clusterClient.connect();
  postgres = process.env.DATABASE_URL ? undefined : await startPrivatePostgres();
  const databaseUrl = process.env.DATABASE_URL ?? postgres!.url;

  balancer = await startRoundRobin(await freePort(), () => instances.map((i) => i.ownUrl));
  const deployment = { issuer: balancer.url, redisKeyPrefix: `iam-scale-${randomBytes(4).toString('hex')}:` };
  const services = [testService({ id: 'servizio-diffuso', name: 'Servizio Diffuso' })];
  const env = { DATABASE_URL: databaseUrl, REDIS_URL: cluster.urls.join(','), REDIS_CLUSTER: 'true', TRUST_PROXY: '1' };
  // one after the other: the first creates the signing keys, the second finds them
  for (let i = 0; i < 2; i++) instances.push(await startTestServer({ services, env, deployment }));
  rp = await relyingParty(balancer.url, services[0]!);
}, 60_000);

afterAll(async () => {
  for (const instance of instances) await instance.close();
  await balancer?.close();
  clusterClient?.disconnect();
  await cluster?.stop();
  postgres?.remove();
});

adapterContract('Redis Cluster', () => {
  const factory = createAdapterFactory({ redis: clusterClient, keyPrefix: `test:cluster:${randomBytes(4).toString('hex')}:` });
  return {
    adapterFor: factory,
    nowSeconds: () => Math.floor(Date.now() / 1000),
    elapse: (seconds) => new Promise((resolve) => setTimeout(resolve, seconds * 1000)),
  };
});

/** A browser at an address of its own, as the balancer would say in X-Forwarded-For. */
const browserAt = () => new FormBrowser(balancer.url, { 'x-forwarded-for': `203.0.113.${randomInt(1, 255)}` });

async function newAccount() {
  const person = testPerson();
  const account = await instances[0]!.deps.provisioning.provision(person);
  return { username: account.username, password: person.password };
}

describe('two instances on one PostgreSQL and a Redis Cluster', () => {
  it('sign a person in with each step on the other instance: code, tokens, userinfo, refresh, the SSO session', async () => {
    const before = [...balancer.served];
    const account = await newAccount();
    const browser = browserAt();
    const { start, page } = await signIn(browser, rp, account, { scope: 'openid profile offline_access', prompt: 'consent' });
    expect(page.url).toContain('code=');
    const tokens = await redeem(rp, page.url, start);
    expect(tokens.claims()?.sub).toBeDefined();

    const userinfo = await client.fetchUserInfo(rp.config, tokens.access_token, tokens.claims()!.sub);
    expect(userinfo.sub).toBe(tokens.claims()!.sub);
    // each refresh rotates the token: the instance that answers must see the other's write
    let refreshToken = tokens.refresh_token!;
    for (let i = 0; i < 3; i++) {
      const refreshed = await refreshRequest(rp, refreshToken);
      expect(refreshed.status).toBe(200);
      refreshToken = refreshed.body.refresh_token!;
    }
    // both instances did part of it
    expect(balancer.served[0]! - (before[0] ?? 0)).toBeGreaterThan(2);
    expect(balancer.served[1]! - (before[1] ?? 0)).toBeGreaterThan(2);

    // the SSO session is shared: a second sign-in needs no password, whichever instance answers
    for (let i = 0; i < 2; i++) {
      expect((await signIn(browser, rp, { username: '', password: '' })).page.url).toContain('code=');
    }
  });

  it('count wrong passwords together: five spread over both instances lock the account on both', async () => {
    const account = await newAccount();
    const statuses = [];
    for (let i = 0; i < 5; i++) {
      const browser = browserAt();
      statuses.push((await submitLogin(browser, await startAuthorization(browser, await authorizationUrl(rp)), account.username, 'Sbagliata-Password-9')).response.status);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401]);
    for (let i = 0; i < 2; i++) {
      const browser = browserAt();
      const locked = await submitLogin(browser, await startAuthorization(browser, await authorizationUrl(rp)), account.username, account.password);
      expect(locked.response.status).toBe(429);
    }
  });

  it('replay a code at the other instance and the whole grant goes, on every instance', async () => {
    const account = await newAccount();
    const browser = browserAt();
    const { start, page } = await signIn(browser, rp, account, { scope: 'openid offline_access', prompt: 'consent' });
    const tokens = await redeem(rp, page.url, start);
    const code = new URL(page.url).searchParams.get('code')!;
    const replay = await fetch(rp.config.serverMetadata().token_endpoint!, {
      method: 'POST',
      headers: {
        authorization: 'Basic ' + Buffer.from(`${rp.service.id}:${rp.service.clientSecret}`).toString('base64'),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: rp.service.redirectUris[0]!, code_verifier: start.verifier }),
    });
    expect(replay.status).toBe(400);
    for (let i = 0; i < 2; i++) expect((await refreshRequest(rp, tokens.refresh_token!)).body.error).toBe('invalid_grant');
  });

  it('see a service registered on one instance at the next request on the other, with no restart; a disabled one is refused on both', async () => {
    const id = `servizio-nuovo-${randomInt(1e9)}`;
    const registered = await instances[0]!.deps.serviceAdministration.register(
      { id, settings: { name: 'Servizio Nuovo', redirectUris: [`http://127.0.0.1:9/${id}/callback`], firstParty: true, acceptedAccountTypes: ['standard'], scopes: ['openid'], grantTypes: ['authorization_code', 'client_credentials'] } },
      { kind: 'system', via: 'cli' },
      'cli',
    );
    if (!registered.ok) throw new Error('not registered');
    const fresh = await relyingParty(balancer.url, testService({ id, clientSecret: registered.secret!, redirectUris: [`http://127.0.0.1:9/${id}/callback`], scopes: ['openid'] }));
    // round robin: consecutive requests land on both instances
    for (let i = 0; i < 2; i++) expect((await client.clientCredentialsGrant(fresh.config, {})).access_token).toBeTruthy();
    const { start, page } = await signIn(browserAt(), fresh, await newAccount(), { scope: 'openid' });
    expect((await redeem(fresh, page.url, start)).claims()?.sub).toBeDefined();

    await instances[1]!.deps.serviceAdministration.setEnabled(id, false, { kind: 'system', via: 'cli' });
    for (let i = 0; i < 2; i++) await expect(client.clientCredentialsGrant(fresh.config, {})).rejects.toThrow(/invalid_client|WWW-Authenticate/);
  });

  it('drop their cached copy of a service changed by hand in PostgreSQL, and keep none while they cannot hear the changes', async () => {
    const id = `servizio-a-mano-${randomInt(1e9)}`;
    const registered = await instances[0]!.deps.serviceAdministration.register(
      { id, settings: { name: 'Servizio a mano', firstParty: true, acceptedAccountTypes: ['standard'], scopes: ['openid'], grantTypes: ['client_credentials'] } },
      { kind: 'system', via: 'cli' },
      'cli',
    );
    if (!registered.ok) throw new Error('not registered');
    const machine = await relyingParty(balancer.url, testService({ id, clientSecret: registered.secret!, redirectUris: [], grantTypes: ['client_credentials'] }));
    const grant = () => tokenRequest(machine, { grant_type: 'client_credentials' });
    const db = instances[0]!.db;
    // both instances have read it (and keep it)
    for (let i = 0; i < 4; i++) expect((await grant()).status).toBe(200);

    // an operator's UPDATE, outside the application: seen at the next request on both
    await sql`update services set secret_digest = 'sha256:x' where id = ${id}`.execute(db);
    for (let i = 0; i < 2; i++) expect((await grant()).status).toBe(401);
    await sql`update services set secret_digest = ${secretDigest(registered.secret!)} where id = ${id}`.execute(db);
    for (let i = 0; i < 4; i++) expect((await grant()).status).toBe(200);

    // the connections that listen are cut: a change made before they are back must not be missed
    const cut = await sql<{ pid: number }>`select pg_terminate_backend(pid) as pid from pg_stat_activity where query = 'LISTEN iam_catalogue'`.execute(db);
    expect(cut.rows.length).toBeGreaterThanOrEqual(2);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await sql`update services set secret_digest = 'sha256:y' where id = ${id}`.execute(db);
    for (let i = 0; i < 2; i++) expect((await grant()).status).toBe(401);
    // and once they hear again, a change is seen as before
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await sql`update services set secret_digest = ${secretDigest(registered.secret!)} where id = ${id}`.execute(db);
    for (let i = 0; i < 2; i++) expect((await grant()).status).toBe(200);
    await sql`update services set disabled_at = now() where id = ${id}`.execute(db);
    for (let i = 0; i < 2; i++) expect((await grant()).status).toBe(401);
  });
});
