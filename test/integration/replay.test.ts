import { FormBrowser } from '../support/browser.js';
import { client, redeem, relyingParty, signIn, tokenRequest as rawTokenRequest, type RelyingParty, type TokenAnswer } from '../support/oidc.js';
import { startTestServer, testPerson, testService, type TestServer } from '../support/server.js';

let server: TestServer;
let rp: RelyingParty;
let username: string;
const password = 'Corretta-Password-1!';

beforeAll(async () => {
  server = await startTestServer({ services: [testService({ id: 'servizio-a' })] });
  rp = await relyingParty(server.url, server.services[0]!);
  ({ username } = await server.deps.provisioning.provision(testPerson()));
});
afterAll(() => server.close());

/** A raw token request, so that several can be in flight at once and each answer is seen as sent. */
const tokenRequest = (params: Record<string, string>) => rawTokenRequest(rp, params);

async function signedInCode(params: Record<string, string> = {}) {
  const { start, page } = await signIn(new FormBrowser(server.url), rp, { username, password }, params);
  const code = new URL(page.url).searchParams.get('code');
  expect(code).toBeTruthy();
  return {
    start,
    callbackUrl: page.url,
    redemption: {
      grant_type: 'authorization_code',
      code: code!,
      redirect_uri: rp.service.redirectUris[0]!,
      code_verifier: start.verifier,
    },
  };
}

const OFFLINE = { scope: 'openid offline_access', prompt: 'consent' };

const refresh = (refreshToken: string) => tokenRequest({ grant_type: 'refresh_token', refresh_token: refreshToken });

async function introspect(token: string): Promise<boolean> {
  return (await client.tokenIntrospection(rp.config, token)).active === true;
}

async function userinfoStatus(accessToken: string): Promise<number> {
  const response = await fetch(rp.config.serverMetadata().userinfo_endpoint!, {
    headers: { authorization: `Bearer ${accessToken}` },
  });
  await response.body?.cancel();
  return response.status;
}

/** The access token is dead everywhere a service could use it. */
async function expectRefused(accessToken: string) {
  expect(await introspect(accessToken)).toBe(false);
  expect(await userinfoStatus(accessToken)).toBe(401);
}

function splitAnswers(answers: TokenAnswer[]) {
  const won = answers.filter((a) => a.status === 200);
  const refused = answers.filter((a) => a.status !== 200);
  for (const answer of refused) {
    expect(answer).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  }
  return { won, refused };
}

describe('an authorization code redeemed twice at once', () => {
  it('gives tokens to exactly one request, and those tokens are revoked', async () => {
    // a few rounds: the requests interleave differently each time
    for (let round = 0; round < 3; round++) {
      const { redemption } = await signedInCode(OFFLINE);
      const { won } = splitAnswers(await Promise.all([tokenRequest(redemption), tokenRequest(redemption)]));

      expect(won).toHaveLength(1);
      const { access_token: accessToken, refresh_token: refreshToken } = won[0]!.body;
      await expectRefused(accessToken!);
      expect(await refresh(refreshToken!)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    }
  });
});

describe('a refresh token used twice at once', () => {
  it('refreshes once, and leaves nothing of that chain working', async () => {
    for (let round = 0; round < 3; round++) {
      const { start, callbackUrl } = await signedInCode(OFFLINE);
      const tokens = await redeem(rp, callbackUrl, start);
      expect(await introspect(tokens.access_token)).toBe(true);

      const answers = await Promise.all([refresh(tokens.refresh_token!), refresh(tokens.refresh_token!)]);
      const { won } = splitAnswers(answers);
      // the first consume wins, and nothing after it looks at the grant again
      expect(won).toHaveLength(1);

      const refreshTokens = [tokens.refresh_token!, ...won.map((a) => a.body.refresh_token!)];
      const accessTokens = [tokens.access_token, ...won.map((a) => a.body.access_token!)];
      for (const refreshToken of refreshTokens) {
        expect(await refresh(refreshToken)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
      }
      for (const accessToken of accessTokens) await expectRefused(accessToken);
    }
  });
});

describe('a replay after the fact', () => {
  it('refuses a code redeemed a second time with invalid_grant, revokes what the first gave, and records it', async () => {
    const replays = () => server.db.selectFrom('audit_log').select('details').where('action', '=', 'token.refused')
      .where('client_id', '=', rp.service.id).where('outcome', '=', 'refused').execute()
      .then((rows) => rows.filter((r) => /already consumed/.test(String(r.details.detail))).length);
    const before = await replays();
    const { start, callbackUrl, redemption } = await signedInCode(OFFLINE);
    const tokens = await redeem(rp, callbackUrl, start);
    expect(await tokenRequest(redemption)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    // the entry is written beside the answer, not before it
    for (let i = 0; i < 40 && (await replays()) === before; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await replays()).toBe(before + 1);
    await expectRefused(tokens.access_token);
    expect(await refresh(tokens.refresh_token!)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });

  it('refuses a rotated refresh token with invalid_grant, and revokes its successor', async () => {
    const { start, callbackUrl } = await signedInCode(OFFLINE);
    const tokens = await redeem(rp, callbackUrl, start);
    const rotated = await refresh(tokens.refresh_token!);
    expect(rotated.status).toBe(200);
    expect(await refresh(tokens.refresh_token!)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(await refresh(rotated.body.refresh_token!)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    await expectRefused(rotated.body.access_token!);
  });
});
