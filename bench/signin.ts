/**
 * The sign-in driver: N simulated browsers, each in a loop for a fixed time, each loop one
 * whole sign-in in a fresh cookie jar (a new person at a new browser, so no SSO session):
 *
 *   1. authorize   GET /auth?…&code_challenge=…         → 303 /interaction/<uid>
 *   2. page        GET /interaction/<uid>               → 200 login form (CSRF token, cookies)
 *   3. login       POST /interaction/<uid>/login        → 303 /auth/<uid>   (argon2id here)
 *   4. resume      GET /auth/<uid>                      → 303 redirect_uri?code=…
 *   5. token       POST /token authorization_code + PKCE verifier → 200 with id_token
 *
 * autocannon cannot carry cookies across steps, so this uses node:http (keep-alive) with
 * manual redirects. It times every step, so a slow run shows where time goes.
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';

export const STEPS = ['authorize', 'page', 'login', 'resume', 'token'] as const;
export type Step = (typeof STEPS)[number];

export interface SignInTarget {
  url: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  username: string;
  /** one account per browser when given (browser i signs in as usernames[i % length]), as people do */
  usernames?: string[];
  password: string;
  scope?: string;
}

export interface SignInResult {
  /** completed sign-ins (ID token received) */
  completed: number;
  failed: number;
  seconds: number;
  perSecond: number;
  /** whole sign-in latency, ms */
  latencies: number[];
  steps: Record<Step, number[]>;
  /** what went wrong, by step and status: 'login 401' etc. */
  failures: Record<string, number>;
  /** login answers that would mean the throttle or the password refused us */
  loginStatuses: Record<string, number>;
}

class StepError extends Error {
  constructor(readonly step: Step, readonly what: string) {
    super(`${step}: ${what}`);
  }
}

class Jar {
  private readonly cookies = new Map<string, string>();
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  take(setCookie: string[] | undefined): void {
    for (const line of setCookie ?? []) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = value === '' || attributes.some((a) => /^\s*expires=thu, 01 jan 1970/i.test(a));
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
}

// node:http with keep-alive rather than fetch: the load generator shares the machine with
// the server it measures, and undici's fetch costs it about twice the CPU per request.
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function send(url: URL, method: string, headers: Record<string, string>, body?: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: body ? { ...headers, 'content-length': Buffer.byteLength(body) } : headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const b64url = (bytes: Buffer) => bytes.toString('base64url');

function decodeHtml(value: string): string {
  return value.replace(/&amp;/g, '&').replace(/&#34;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>');
}

/** The login form's action and hidden fields (the CSRF token among them). */
function loginForm(html: string): { action: string; fields: Record<string, string> } {
  for (const [, action = '', inner = ''] of html.matchAll(/<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/g)) {
    if (!/\/login$/.test(action)) continue;
    const fields: Record<string, string> = {};
    for (const [input] of inner.matchAll(/<input[^>]*>/g)) {
      const name = /\sname="([^"]+)"/.exec(input)?.[1];
      if (name) fields[name] = decodeHtml(/\svalue="([^"]*)"/.exec(input)?.[1] ?? '');
    }
    return { action: decodeHtml(action), fields };
  }
  throw new Error('no login form');
}

/** One whole sign-in; returns the time of each step. */
export async function signInOnce(target: SignInTarget, loginStatuses: Record<string, number>): Promise<Record<Step, number>> {
  const jar = new Jar();
  const times = {} as Record<Step, number>;
  /** One request, timed from sending to the last byte of the answer. */
  const request = async (
    step: Step,
    url: string,
    init: { method?: string; headers?: Record<string, string>; body?: string } = {},
  ): Promise<{ status: number; location: string | null; body: string }> => {
    const headers: Record<string, string> = { ...init.headers };
    const cookie = jar.header();
    if (cookie) headers.cookie = cookie;
    const t0 = performance.now();
    try {
      const response = await send(new URL(url, target.url), init.method ?? 'GET', headers, init.body);
      times[step] = performance.now() - t0;
      jar.take(response.headers['set-cookie']);
      return { status: response.status, location: response.headers.location ?? null, body: response.body };
    } catch (error) {
      throw new StepError(step, `network error ${(error as Error).message}`);
    }
  };
  const expectRedirect = (step: Step, response: { status: number; location: string | null }): string => {
    if (response.status < 300 || response.status >= 400 || !response.location) throw new StepError(step, String(response.status));
    return response.location;
  };

  const verifier = b64url(randomBytes(32));
  const state = b64url(randomBytes(16));
  const authorize = new URL('/auth', target.url);
  authorize.search = new URLSearchParams({
    client_id: target.clientId,
    redirect_uri: target.redirectUri,
    response_type: 'code',
    scope: target.scope ?? 'openid profile email',
    state,
    nonce: b64url(randomBytes(16)),
    code_challenge: b64url(createHash('sha256').update(verifier).digest()),
    code_challenge_method: 'S256',
  }).toString();

  // 1. authorize → the interaction
  const interactionUrl = new URL(expectRedirect('authorize', await request('authorize', authorize.toString())), target.url).toString();
  if (!interactionUrl.includes('/interaction/')) throw new StepError('authorize', `went to ${interactionUrl}`);

  // 2. the login page
  const page = await request('page', interactionUrl);
  if (page.status !== 200) throw new StepError('page', String(page.status));
  const form = loginForm(page.body);

  // 3. the password
  const login = await request('login', new URL(form.action, interactionUrl).toString(), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...form.fields, username: target.username, password: target.password }).toString(),
  });
  loginStatuses[login.status] = (loginStatuses[login.status] ?? 0) + 1;
  const resumeUrl = expectRedirect('login', login);

  // 4. back to the provider, which answers the client with the code
  const callback = new URL(expectRedirect('resume', await request('resume', new URL(resumeUrl, target.url).toString())), target.url);
  if (!callback.toString().startsWith(target.redirectUri)) throw new StepError('resume', `went to ${callback.pathname} instead of the client`);
  const code = callback.searchParams.get('code');
  if (!code || callback.searchParams.get('state') !== state) throw new StepError('resume', `no code (${callback.searchParams.get('error') ?? 'state mismatch'})`);

  // 5. the client redeems the code
  const token = await request('token', '/token', {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: 'Basic ' + Buffer.from(`${encodeURIComponent(target.clientId)}:${encodeURIComponent(target.clientSecret)}`).toString('base64'),
    },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: target.redirectUri, code_verifier: verifier }).toString(),
  });
  let body: { id_token?: string; access_token?: string } = {};
  try {
    body = JSON.parse(token.body) as typeof body;
  } catch {
    // reported below as a failed token step
  }
  if (token.status !== 200 || !body.id_token || !body.access_token) throw new StepError('token', String(token.status));
  return times;
}

/** `concurrency` browsers signing in again and again for `seconds`. */
export async function runSignIns(target: SignInTarget, concurrency: number, seconds: number): Promise<SignInResult> {
  const result: SignInResult = {
    completed: 0,
    failed: 0,
    seconds: 0,
    perSecond: 0,
    latencies: [],
    steps: Object.fromEntries(STEPS.map((s) => [s, []])) as unknown as Record<Step, number[]>,
    failures: {},
    loginStatuses: {},
  };
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const loop = async (browser: number) => {
    const usernames = target.usernames?.length ? target.usernames : [target.username];
    const browserTarget = { ...target, username: usernames[browser % usernames.length]! };
    while (performance.now() < deadline) {
      const t0 = performance.now();
      try {
        const times = await signInOnce(browserTarget, result.loginStatuses);
        result.completed += 1;
        result.latencies.push(performance.now() - t0);
        for (const step of STEPS) result.steps[step].push(times[step]);
      } catch (error) {
        result.failed += 1;
        const key = error instanceof StepError ? `${error.step} ${error.what}` : `driver ${(error as Error).message}`;
        result.failures[key] = (result.failures[key] ?? 0) + 1;
        // a server that refuses every attempt must not turn this into a hot loop
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, browser) => loop(browser)));
  result.seconds = (performance.now() - started) / 1000;
  result.perSecond = result.completed / result.seconds;
  return result;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
