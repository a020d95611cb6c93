import * as client from 'openid-client';
import type { ServiceDefinition } from '../../src/services/catalogue.js';
import { FormBrowser, formFields } from './browser.js';

export interface RelyingParty {
  service: ServiceDefinition;
  config: client.Configuration;
}

export async function relyingParty(issuer: string, service: ServiceDefinition): Promise<RelyingParty> {
  const auth = service.clientSecret ? client.ClientSecretBasic(service.clientSecret) : client.None();
  const config = await client.discovery(new URL(issuer), service.id, undefined, auth, {
    execute: [client.allowInsecureRequests],
  });
  return { service, config };
}

export interface AuthorizationStart {
  url: URL;
  state: string;
  nonce: string;
  verifier: string;
}

export async function authorizationUrl(rp: RelyingParty, params: Record<string, string> = {}): Promise<AuthorizationStart> {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(rp.config, {
    redirect_uri: rp.service.redirectUris[0]!,
    scope: 'openid profile email',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...params,
  });
  return { url, state, nonce, verifier };
}

/** Walks the browser from the authorization URL to wherever the provider stops: the RP, or a page. */
export async function startAuthorization(browser: FormBrowser, start: AuthorizationStart) {
  return browser.follow(await browser.get(start.url.toString()));
}

export async function submitLogin(browser: FormBrowser, page: { body: string }, username: string, password: string) {
  const form = formFields(page.body, /\/login$/);
  return browser.follow(await browser.post(form.action, { ...form.fields, username, password }));
}

/** Full sign-in through the login page; returns the callback URL the RP receives. */
export async function signIn(
  browser: FormBrowser,
  rp: RelyingParty,
  credentials: { username: string; password: string },
  params: Record<string, string> = {},
) {
  const start = await authorizationUrl(rp, params);
  let page = await startAuthorization(browser, start);
  if (page.url.includes('/interaction/') && page.body.includes('name="password"')) {
    page = await submitLogin(browser, page, credentials.username, credentials.password);
  }
  return { start, page };
}

export async function redeem(rp: RelyingParty, callbackUrl: string, start: AuthorizationStart) {
  return client.authorizationCodeGrant(rp.config, new URL(callbackUrl), {
    pkceCodeVerifier: start.verifier,
    expectedState: start.state,
    expectedNonce: start.nonce,
  });
}

export interface TokenAnswer {
  status: number;
  body: { error?: string; access_token?: string; refresh_token?: string };
}

/**
 * A raw request to the token endpoint with the service's credentials: several can be in
 * flight at once, and each answer is seen as sent (openid-client would throw on errors).
 */
export async function tokenRequest(rp: RelyingParty, params: Record<string, string>): Promise<TokenAnswer> {
  const response = await fetch(rp.config.serverMetadata().token_endpoint!, {
    method: 'POST',
    headers: {
      authorization: 'Basic ' + Buffer.from(`${rp.service.id}:${rp.service.clientSecret}`).toString('base64'),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams(params).toString(),
  });
  return { status: response.status, body: (await response.json()) as TokenAnswer['body'] };
}

export const refreshRequest = (rp: RelyingParty, refreshToken: string) =>
  tokenRequest(rp, { grant_type: 'refresh_token', refresh_token: refreshToken });

export { client };
