import { randomUUID } from 'node:crypto';

import type { AdapterPayload } from 'oidc-provider';

import type { StoreAdapter } from '../../src/adapters/index.js';

/**
 * The contract every store adapter keeps (oidc-provider's, plus grant revocation and the
 * account index), as a suite to run against each backend: in-process, Redis, Redis Cluster.
 */

/** What the contract needs from a backend: adapters that share one store, and time. */
export interface Harness {
  adapterFor(model: string): StoreAdapter;
  /** Lets `seconds` pass as far as the store can tell (fake clock or a real wait). */
  elapse(seconds: number): Promise<void>;
  nowSeconds(): number;
  dispose?(): void;
}

const INVALID_GRANT = { error: 'invalid_grant' };

let sequence = 0;
export const runId = randomUUID().slice(0, 8);
/** Ids unique across runs, so a shared Redis never mixes two runs. */
export const uniqueId = (label: string) => `${label}-${runId}-${++sequence}`;

export function adapterContract(name: string, createHarness: () => Harness): void {
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

    it('refuses to consume an unknown id with invalid_grant, creating nothing', async () => {
      const id = uniqueId('code');
      await expect(adapterFor('AuthorizationCode').consume(id)).rejects.toMatchObject(INVALID_GRANT);
      expect(await adapterFor('AuthorizationCode').find(id)).toBeUndefined();
    });

    /** A grant with a code, an access token, a refresh token and its Grant entry. */
    async function storeGrant(accountId = uniqueId('account')) {
      const grantId = uniqueId('grant');
      const members = [
        ['AuthorizationCode', uniqueId('code')],
        ['AccessToken', uniqueId('at')],
        ['RefreshToken', uniqueId('rt')],
      ] as const;
      await adapterFor('Grant').upsert(grantId, { kind: 'Grant', accountId, clientId: 'c' }, 600);
      for (const [model, id] of members) await adapterFor(model).upsert(id, { kind: model, grantId, accountId }, 60);
      const gone = async () => {
        const left = [];
        for (const [model, id] of [...members, ['Grant', grantId] as const]) {
          if (await adapterFor(model).find(id)) left.push(model);
        }
        return left;
      };
      return { grantId, accountId, members, gone };
    }

    it('answers a second consume with invalid_grant and revokes the whole grant, Grant entry included', async () => {
      const grant = await storeGrant();
      const other = await storeGrant();
      const [, code] = grant.members[0];
      await adapterFor('AuthorizationCode').consume(code);
      expect(await grant.gone()).toHaveLength(4);

      await expect(adapterFor('AuthorizationCode').consume(code)).rejects.toMatchObject({
        ...INVALID_GRANT,
        error_detail: 'authorization code already consumed',
      });
      expect(await grant.gone()).toEqual([]);
      expect(await other.gone()).toHaveLength(4);
    });

    it.each(['AuthorizationCode', 'RefreshToken'] as const)(
      'lets exactly one of many simultaneous consumes of one %s win; the others revoke the grant',
      async (model) => {
        const grant = await storeGrant();
        const [, id] = grant.members.find(([m]) => m === model)!;
        // separate adapter objects, as separate requests (or instances) would have
        const attempts = await Promise.allSettled(Array.from({ length: 8 }, () => adapterFor(model).consume(id)));

        expect(attempts.filter((a) => a.status === 'fulfilled')).toHaveLength(1);
        const refusals = attempts.filter((a): a is PromiseRejectedResult => a.status === 'rejected');
        expect(refusals).toHaveLength(7);
        for (const { reason } of refusals) expect(reason).toMatchObject(INVALID_GRANT);
        expect(await grant.gone()).toEqual([]);
      },
    );

    it('does not store an entry of a revoked grant, nor the Grant again', async () => {
      const grant = await storeGrant();
      await adapterFor('Grant').revokeGrant(grant.grantId);
      expect(await grant.gone()).toEqual([]);

      // what a token request already under way when the grant was revoked would save
      const late = uniqueId('rt');
      await adapterFor('RefreshToken').upsert(late, { kind: 'RefreshToken', grantId: grant.grantId }, 60);
      await adapterFor('Grant').upsert(grant.grantId, { kind: 'Grant', accountId: 'a', clientId: 'c' }, 600);
      expect(await adapterFor('RefreshToken').find(late)).toBeUndefined();
      expect(await adapterFor('Grant').find(grant.grantId)).toBeUndefined();

      // another grant is unaffected
      const fresh = await storeGrant();
      expect(await fresh.gone()).toHaveLength(4);
      await expect(adapterFor('Grant').revokeGrant(uniqueId('grant'))).resolves.toBeUndefined();
    });

    it("lists an account's live sessions and grants, and nothing of another account's", async () => {
      const account = uniqueId('account');
      const sessions = [uniqueId('session'), uniqueId('session')];
      for (const id of sessions) await adapterFor('Session').upsert(id, { kind: 'Session', uid: uniqueId('uid'), accountId: account }, 60);
      const grant = await storeGrant(account);
      const other = await storeGrant();
      await adapterFor('Session').upsert(uniqueId('session'), { kind: 'Session', uid: uniqueId('uid'), accountId: uniqueId('account') }, 60);
      // a session nobody has signed in to yet
      await adapterFor('Session').upsert(uniqueId('session'), { kind: 'Session', uid: uniqueId('uid') }, 60);

      const sorted = (e: { sessions: string[]; grants: string[] }) => ({ sessions: [...e.sessions].sort(), grants: [...e.grants].sort() });
      // any adapter answers: the index is one per store
      expect(sorted(await adapterFor('AccessToken').idsForAccount(account))).toEqual({ sessions: [...sessions].sort(), grants: [grant.grantId] });
      expect(await adapterFor('Session').idsForAccount(uniqueId('account'))).toEqual({ sessions: [], grants: [] });

      // saving a session again (every request that touches it) keeps one member
      await adapterFor('Session').upsert(sessions[0]!, { kind: 'Session', uid: uniqueId('uid'), accountId: account }, 60);
      expect((await adapterFor('Grant').idsForAccount(account)).sessions).toHaveLength(2);

      // logged out, revoked: gone from the list
      await adapterFor('Session').destroy(sessions[1]!);
      await adapterFor('Grant').revokeGrant(grant.grantId);
      expect(await adapterFor('Grant').idsForAccount(account)).toEqual({ sessions: [sessions[0]], grants: [] });
      expect(await adapterFor('Grant').idsForAccount(other.accountId)).toEqual({ sessions: [], grants: [other.grantId] });
    });

    it('ends a session for good: a save of it afterwards (a request under way) is not stored, other sessions unaffected', async () => {
      const account = uniqueId('account');
      const [ended, kept] = [uniqueId('session'), uniqueId('session')];
      const payload = () => ({ kind: 'Session', uid: uniqueId('uid'), accountId: account });
      await adapterFor('Session').upsert(ended, payload(), 60);
      await adapterFor('Session').upsert(kept, payload(), 60);
      await adapterFor('Grant').endSession(ended);
      expect(await adapterFor('Session').find(ended)).toBeUndefined();
      await adapterFor('Session').upsert(ended, payload(), 60);
      expect(await adapterFor('Session').find(ended)).toBeUndefined();
      expect((await adapterFor('Session').idsForAccount(account)).sessions).toEqual([kept]);
      await adapterFor('Session').upsert(kept, payload(), 60);
      expect(await adapterFor('Session').find(kept)).toBeDefined();
      await expect(adapterFor('Session').endSession(uniqueId('session'))).resolves.toBeUndefined();
    });

    it("drops expired entries from an account's list", async () => {
      const account = uniqueId('account');
      const short = uniqueId('session');
      const long = uniqueId('session');
      await adapterFor('Session').upsert(short, { kind: 'Session', uid: uniqueId('uid'), accountId: account }, 1);
      await adapterFor('Session').upsert(long, { kind: 'Session', uid: uniqueId('uid'), accountId: account }, 60);
      await harness.elapse(1.2);
      expect(await adapterFor('Session').idsForAccount(account)).toEqual({ sessions: [long], grants: [] });
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

