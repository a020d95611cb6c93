import { randomUUID } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { FormBrowser } from '../support/browser.js';
import { authorizationUrl, redeem, refreshRequest, relyingParty, signIn, startAuthorization, submitLogin, type RelyingParty } from '../support/oidc.js';
import { startLogoutReceiver, type LogoutReceiver } from '../support/logout-receiver.js';
import { startTestServer, testPerson, testService, type TestServer } from '../support/server.js';

let server: TestServer;
let rpA: RelyingParty;
let rpB: RelyingParty;
const password = 'Corretta-Password-1!';
const admin = { kind: 'admin', id: randomUUID() } as const;

let receiver: LogoutReceiver;
let logoutTokens: LogoutReceiver['tokens'];

beforeAll(async () => {
  receiver = await startLogoutReceiver();
  logoutTokens = receiver.tokens;
  const receiverUrl = receiver.url;

  server = await startTestServer({
    services: [
      testService({ id: 'servizio-a', backchannelLogoutUri: `${receiverUrl}/a` }),
      testService({ id: 'servizio-b', backchannelLogoutUri: `${receiverUrl}/b` }),
    ],
  });
  rpA = await relyingParty(server.url, server.services[0]!);
  rpB = await relyingParty(server.url, server.services[1]!);
});

afterAll(async () => {
  await server.close();
  receiver.close();
});

const OFFLINE = { scope: 'openid offline_access', prompt: 'consent' };

async function newAccount() {
  const { id, username } = await server.deps.provisioning.provision(testPerson());
  return { id, username, password };
}

/** Signs in through the login page (or the SSO session) and redeems the code. */
async function tokensFor(browser: FormBrowser, rp: RelyingParty, credentials: { username: string; password: string }) {
  const { start, page } = await signIn(browser, rp, credentials, OFFLINE);
  expect(page.url).toContain('code=');
  return redeem(rp, page.url, start);
}

const refresh = refreshRequest;

async function userinfoStatus(rp: RelyingParty, accessToken: string): Promise<number> {
  const response = await fetch(rp.config.serverMetadata().userinfo_endpoint!, {
    headers: { authorization: `Bearer ${accessToken}` },
  });
  await response.body?.cancel();
  return response.status;
}

async function auditEntries(subjectId: string, action: string) {
  return server.db
    .selectFrom('audit_log')
    .select(['actor_kind', 'actor_id', 'outcome', 'details'])
    .where('subject_id', '=', subjectId)
    .where('action', '=', action)
    .execute();
}

const INVALID_GRANT = { status: 400, body: { error: 'invalid_grant' } };

describe('suspending an account', () => {
  it('ends its sessions, revokes its tokens and tells its services; reactivation lets it sign in again', async () => {
    const account = await newAccount();
    const browser = new FormBrowser(server.url);
    const tokensA = await tokensFor(browser, rpA, account);
    const tokensB = await tokensFor(browser, rpB, account); // through the SSO session
    expect(await userinfoStatus(rpA, tokensA.access_token)).toBe(200);

    logoutTokens.length = 0;
    const outcome = await server.deps.accountStatus.suspend(account.id, admin);
    expect(outcome).toMatchObject({
      ok: true,
      previous: 'active',
      status: 'suspended',
      revocation: { sessions: 1, grants: 2, notified: 2, notDelivered: 0 },
    });

    // tokens: refused everywhere
    for (const [rp, tokens] of [[rpA, tokensA], [rpB, tokensB]] as const) {
      expect(await refresh(rp, tokens.refresh_token!)).toMatchObject(INVALID_GRANT);
      expect(await userinfoStatus(rp, tokens.access_token)).toBe(401);
    }

    // both services were told, each with a logout token for this person and its session
    expect(logoutTokens.map((l) => l.path).sort()).toEqual(['/a', '/b']);
    const jwks = createRemoteJWKSet(new URL(`${server.url}/jwks`));
    for (const { path, token } of logoutTokens) {
      const [rp, tokens] = path === '/a' ? [rpA, tokensA] : [rpB, tokensB];
      const { payload } = await jwtVerify(token, jwks, { issuer: server.url, audience: rp.service.id });
      expect(payload.events).toHaveProperty(['http://schemas.openid.net/event/backchannel-logout']);
      expect(payload.sub).toBe(account.id);
      expect(payload.sid).toBe(tokens.claims()?.sid);
    }

    // the SSO session is gone: the login page, then the account_state page
    const again = await startAuthorization(browser, await authorizationUrl(rpA));
    expect(again.body).toContain('name="password"');
    const refused = await submitLogin(browser, again, account.username, account.password);
    expect(refused.response.status).toBe(403);
    expect(refused.body).toContain('La tua utenza è sospesa');

    expect(await auditEntries(account.id, 'account.suspended')).toEqual([
      { actor_kind: 'admin', actor_id: admin.id, outcome: 'success', details: { previous: 'active' } },
    ]);

    // reactivated: signing in works again, and what was revoked stays revoked
    expect(await server.deps.accountStatus.reactivate(account.id, admin)).toMatchObject({ ok: true, previous: 'suspended', status: 'active' });
    const fresh = await tokensFor(new FormBrowser(server.url), rpA, account);
    expect(await userinfoStatus(rpA, fresh.access_token)).toBe(200);
    expect((await refresh(rpA, fresh.refresh_token!)).status).toBe(200);
    expect(await refresh(rpA, tokensA.refresh_token!)).toMatchObject(INVALID_GRANT);
    expect(await userinfoStatus(rpA, tokensA.access_token)).toBe(401);
    expect(await auditEntries(account.id, 'account.reactivated')).toHaveLength(1);
  });

  it('leaves no working refresh token when refreshes are in flight', async () => {
    const account = await newAccount();
    // three sessions, so three grants and three refresh-token chains
    const chains = await Promise.all([0, 1, 2].map(() => tokensFor(new FormBrowser(server.url), rpA, account)));
    const refreshTokens = chains.map((t) => t.refresh_token!);
    const accessTokens = chains.map((t) => t.access_token);

    // each chain keeps refreshing until it is refused; the suspension starts once refreshing has
    let firstRefresh!: () => void;
    const refreshingStarted = new Promise<void>((resolve) => (firstRefresh = resolve));
    const refreshing = chains.map(async (tokens) => {
      let current = tokens.refresh_token!;
      for (let i = 0; i < 200; i++) {
        const answer = await refresh(rpA, current);
        if (answer.status !== 200) {
          expect(answer).toMatchObject(INVALID_GRANT);
          return;
        }
        current = answer.body.refresh_token!;
        refreshTokens.push(current);
        accessTokens.push(answer.body.access_token!);
        firstRefresh();
      }
      throw new Error('refreshing went on after the suspension');
    });
    await refreshingStarted;
    await server.deps.accountStatus.suspend(account.id, admin);
    await Promise.all(refreshing);
    expect(refreshTokens.length).toBeGreaterThan(chains.length);

    // not even after reactivation does anything issued before or during the suspension work
    await server.deps.accountStatus.reactivate(account.id, admin);
    for (const refreshToken of refreshTokens) expect(await refresh(rpA, refreshToken)).toMatchObject(INVALID_GRANT);
    for (const accessToken of accessTokens) expect(await userinfoStatus(rpA, accessToken)).toBe(401);
  });

  it('answers an unknown account without changing anything', async () => {
    const unknown = '00000000-0000-4000-8000-000000000000';
    expect(await server.deps.accountStatus.suspend(unknown, admin)).toEqual({ ok: false, reason: 'not_found' });
    expect(await auditEntries(unknown, 'account.suspended')).toEqual([]);
  });
});

describe('an SSO session older than the revocation', () => {
  it('no longer counts as a sign-in, even if something saved it again', async () => {
    const account = await newAccount();
    const browser = new FormBrowser(server.url);
    await tokensFor(browser, rpA, account);
    // the session is still stored: as if a request under way during a suspension had saved it again
    await server.deps.accounts.revokeSessionsBefore(account.id, new Date(Date.now() + 1000));

    const silent = await startAuthorization(browser, await authorizationUrl(rpB, { prompt: 'none' }));
    expect(new URL(silent.url).searchParams.get('error')).toBe('login_required');

    const page = await startAuthorization(browser, await authorizationUrl(rpB));
    expect(page.body).toContain('name="password"');
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const signedIn = await submitLogin(browser, page, account.username, account.password);
    expect(signedIn.url).toContain('code=');
  });
});

describe('a suspension written straight into the database', () => {
  it('stops a refresh at once, even while another sign-in of the account waits to be redeemed', async () => {
    const account = await newAccount();
    const browser = new FormBrowser(server.url);
    const tokens = await tokensFor(browser, rpA, account);
    // a second sign-in through the SSO session: its code is issued, not yet redeemed
    const pending = await signIn(browser, rpB, account, OFFLINE);
    expect(pending.page.url).toContain('code=');
    await server.db.updateTable('accounts').set({ status: 'suspended' }).where('id', '=', account.id).execute();
    expect(await refresh(rpA, tokens.refresh_token!)).toMatchObject(INVALID_GRANT);
    expect(await userinfoStatus(rpA, tokens.access_token)).toBe(401);
  });
});
