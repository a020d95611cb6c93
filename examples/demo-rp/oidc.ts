import * as client from 'openid-client';
import type { DemoClient } from './clients.js';

export type TokenEndpointAuthMethod = 'client_secret_basic' | 'client_secret_post';

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

export function isLoopback(url: URL): boolean {
  return LOOPBACK.has(url.hostname) || /^127(\.\d{1,3}){3}$/.test(url.hostname);
}

/**
 * Discovers the provider and returns the openid-client configuration for one service.
 * Every failure becomes an Error whose message fits on one line.
 */
export async function discoverProvider(
  issuer: string,
  service: DemoClient,
  authMethod: TokenEndpointAuthMethod = 'client_secret_basic',
): Promise<client.Configuration> {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw new Error(`ISSUER "${issuer}" is not a valid URL`);
  }
  const insecure = url.protocol === 'http:';
  if (insecure && !isLoopback(url)) {
    throw new Error(`ISSUER ${issuer} uses plain http; only loopback issuers (localhost) may`);
  }
  if (!insecure && url.protocol !== 'https:') throw new Error(`ISSUER ${issuer} must be http(s)`);

  // oidc-provider registers clients with client_secret_basic unless told otherwise.
  const auth = authMethod === 'client_secret_post'
    ? client.ClientSecretPost(service.clientSecret)
    : client.ClientSecretBasic(service.clientSecret);

  try {
    return await client.discovery(url, service.id, { client_secret: service.clientSecret }, auth, {
      // Deprecated only as a warning sign; gated above to http on loopback.
      execute: insecure ? [client.allowInsecureRequests] : [],
      timeout: 10,
    });
  } catch (err) {
    throw new Error(describeDiscoveryError(issuer, err));
  }
}

function describeDiscoveryError(issuer: string, err: unknown): string {
  const error = err as Error & { cause?: { code?: string; message?: string } };
  const code = error.cause?.code;
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || error.name === 'TimeoutError') {
    return `cannot reach the provider at ${issuer} (${code ?? 'timeout'}); is it running?`;
  }
  const detail = error.cause?.message && error.cause.message !== error.message ? `: ${error.cause.message}` : '';
  return `discovery failed at ${issuer}: ${error.message ?? String(err)}${detail}`.replace(/\s+/g, ' ');
}
