import type { FormBrowser } from './browser.js';
import { redeem, signIn, type RelyingParty } from './oidc.js';

export async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work();
  return { value, ms: performance.now() - started };
}

/** Signs in with a password, asking for a refresh token as well. */
export async function signInWithRefreshToken(browser: FormBrowser, rp: RelyingParty, credentials: { username: string; password: string }) {
  const first = await signIn(browser, rp, credentials, { scope: 'openid offline_access', prompt: 'consent' });
  return redeem(rp, first.page.url, first.start);
}

/** The browser's SSO session, tried every 100 ms for up to 5 s after a store came back: the callback URL, or the last page's. */
export async function signInAgainWithinSeconds(browser: FormBrowser, rp: RelyingParty): Promise<string> {
  let url = '';
  for (let i = 0; i < 50; i++) {
    url = (await signIn(browser, rp, { username: '', password: '' })).page.url;
    if (url.includes('code=')) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return url;
}
