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
 * With `forcedChange` (against the forced-change server) the password has expired, so the
 * resume leads to the password_change gate instead of the code:
 *
 *   4. resume               GET /auth/<uid>                  → 303 /interaction/<uid2>
 *   5. change page          GET /interaction/<uid2>          → 200 change form (CSRF token)
 *   6. change               POST /interaction/<uid2>/gate    → 303 /auth/<uid2>  (argon2id: current, history, new hash)
 *   7. resume after change  GET /auth/<uid2>                 → 303 redirect_uri?code=…
 *   8. token
 *
 * Each browser then owns its accounts and knows their current passwords; it sets a new one
 * (bench/new-password.ts) at every change, and does not sign in with an account again until
 * the password it set has expired.
 *
 * autocannon cannot carry cookies across steps, so this uses node:http (keep-alive) with
 * manual redirects. It times every step, so a slow run shows where time goes.
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { benchNewPassword } from './new-password.js';

export const STEPS = ['authorize', 'page', 'login', 'resume', 'token'] as const;
export const FORCED_CHANGE_STEPS = ['authorize', 'page', 'login', 'resume', 'change page', 'change', 'resume after change', 'token'] as const;
export type Step = (typeof STEPS)[number] | (typeof FORCED_CHANGE_STEPS)[number];

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
  /** the sign-in goes through the password change page (the forced-change server) */
  forcedChange?: {
    /** how long a new password lives: the browser waits at least that long before using its account again */
    passwordLifeSeconds: number;
  };
}

/** An account as one browser knows it: its password changes under the forced-change server. */
export interface BrowserAccount {
  username: string;
  password: string;
  /** successful password changes in this run */
  changes: number;
  /** change attempts in this run, the number behind the next new password */
  attempts: number;
  /** performance.now() after which the password last set has surely expired */
  expiredAfter: number;
}

export interface SignInResult {
  /** completed sign-ins (ID token received) */
  completed: number;
  failed: number;
  seconds: number;
  perSecond: number;
  /** whole sign-in latency, ms */
  latencies: number[];
  steps: Partial<Record<Step, number[]>>;
  /** forced change: for each completed sign-in, which change of its account it was (1 = first this run) */
  changeNumbers: number[];
  /** forced change: how often a browser had to wait for its next account's password to expire, and for how long in all (ms) */
  waits: { count: number; ms: number };
  /** what went wrong, by step and status: 'login 401' etc. */
  failures: Record<string, number>;
  /** login answers that would mean the throttle or the password refused us */
  loginStatuses: Record<string, number>;
}

export class StepError extends Error {
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

/** The driver's clock and the server's agree (one machine); this covers rounding and the server's own delay. */
const EXPIRY_MARGIN_MS = 100;

export function send(url: URL, method: string, headers: Record<string, string>, body?: string, via: http.Agent = agent): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: body ? { ...headers, 'content-length': Buffer.byteLength(body) } : headers, agent: via }, (res) => {
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

/** The action and fields (the CSRF token among them) of the form posting to `.../<step>`. */
function formFor(html: string, step: 'login' | 'gate'): { action: string; fields: Record<string, string> } {
  for (const [, action = '', inner = ''] of html.matchAll(/<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/g)) {
    if (!action.endsWith(`/${step}`)) continue;
    const fields: Record<string, string> = {};
    for (const [input] of inner.matchAll(/<input[^>]*>/g)) {
      const name = /\sname="([^"]+)"/.exec(input)?.[1];
      if (name) fields[name] = decodeHtml(/\svalue="([^"]*)"/.exec(input)?.[1] ?? '');
    }
    return { action: decodeHtml(action), fields };
  }
  throw new Error(`no ${step} form`);
}

/** Why the change page refused, as it says it (for the failure list). */
function changeError(html: string): string {
  const message = /id="(?:next|current|confirm)-error"[^>]*>([^<]*)</.exec(html)?.[1];
  return message ? ` (${decodeHtml(message).trim().slice(0, 80)})` : '';
}

export function freshAccount(username: string, password: string): BrowserAccount {
  return { username, password, changes: 0, attempts: 0, expiredAfter: 0 };
}

/** What a caller may watch of each request of a sign-in, and the connections it goes through. */
export interface SignInOptions {
  observe?: (step: Step, ms: number, status: number) => void;
  agent?: http.Agent;
  /** sent with every request (e.g. X-Forwarded-For: a browser's own address behind a proxy) */
  headers?: Record<string, string>;
}

/** One whole sign-in; returns the time of each step. */
export async function signInOnce(
  target: SignInTarget,
  loginStatuses: Record<string, number>,
  account: BrowserAccount = freshAccount(target.username, target.password),
  options: SignInOptions = {},
): Promise<Partial<Record<Step, number>>> {
  const jar = new Jar();
  const times: Partial<Record<Step, number>> = {};
  /** One request, timed from sending to the last byte of the answer. */
  const request = async (
    step: Step,
    url: string,
    init: { method?: string; headers?: Record<string, string>; body?: string } = {},
  ): Promise<{ status: number; location: string | null; body: string }> => {
    const headers: Record<string, string> = { ...options.headers, ...init.headers };
    const cookie = jar.header();
    if (cookie) headers.cookie = cookie;
    const t0 = performance.now();
    try {
      const response = await send(new URL(url, target.url), init.method ?? 'GET', headers, init.body, options.agent);
      times[step] = performance.now() - t0;
      options.observe?.(step, times[step]!, response.status);
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
  const form = formFor(page.body, 'login');

  // 3. the password
  const login = await request('login', new URL(form.action, interactionUrl).toString(), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...form.fields, username: account.username, password: account.password }).toString(),
  });
  loginStatuses[login.status] = (loginStatuses[login.status] ?? 0) + 1;
  const resumeUrl = expectRedirect('login', login);

  // 4. back to the provider, which answers the client with the code, or (forced change) sends
  // the browser to the change page first
  let resumeStep: Step = 'resume';
  let next = new URL(expectRedirect('resume', await request('resume', new URL(resumeUrl, target.url).toString())), target.url);
  if (target.forcedChange) {
    if (!next.pathname.startsWith('/interaction/')) throw new StepError('resume', `went to ${next.pathname} instead of the change page`);
    // 5. the change page
    const changePage = await request('change page', next.toString());
    if (changePage.status !== 200) throw new StepError('change page', String(changePage.status));
    let changeForm: ReturnType<typeof formFor>;
    try {
      changeForm = formFor(changePage.body, 'gate');
    } catch {
      throw new StepError('change page', 'no change form');
    }
    // 6. the current password and a new one (a new one at every attempt: a refused one may have been stored)
    const newPassword = benchNewPassword(account.attempts);
    account.attempts += 1;
    const change = await request('change', new URL(changeForm.action, next).toString(), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...changeForm.fields, current: account.password, next: newPassword, confirm: newPassword }).toString(),
    });
    if (change.status !== 303 || !change.location) throw new StepError('change', `${change.status}${changeError(change.body)}`);
    if (!change.location.includes('/auth/')) throw new StepError('change', `went to ${new URL(change.location, target.url).pathname}`);
    // from here on the account has the new password, whatever happens to the rest of the sign-in
    account.password = newPassword;
    account.changes += 1;
    account.expiredAfter = performance.now() + target.forcedChange.passwordLifeSeconds * 1000 + EXPIRY_MARGIN_MS;
    // 7. back to the provider, which now answers the client
    resumeStep = 'resume after change';
    next = new URL(expectRedirect(resumeStep, await request(resumeStep, new URL(change.location, target.url).toString())), target.url);
  }
  const callback = next;
  if (!callback.toString().startsWith(target.redirectUri)) throw new StepError(resumeStep, `went to ${callback.pathname} instead of the client`);
  const code = callback.searchParams.get('code');
  if (!code || callback.searchParams.get('state') !== state) throw new StepError(resumeStep, `no code (${callback.searchParams.get('error') ?? 'state mismatch'})`);

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

/**
 * Which accounts each browser signs in with. Plain sign-ins: browser i uses account
 * i % length (shared when there are more browsers than accounts; nothing changes on them).
 * Forced change: browser i owns accounts i, i + concurrency, i + 2 × concurrency …, since
 * only it knows their current passwords, and takes the one whose password expired first.
 */
function accountsOf(target: SignInTarget, concurrency: number, browser: number, known: Map<string, BrowserAccount>): BrowserAccount[] {
  const usernames = target.usernames?.length ? target.usernames : [target.username];
  const account = (username: string) => {
    if (!known.has(username)) known.set(username, freshAccount(username, target.password));
    return known.get(username)!;
  };
  if (!target.forcedChange) return [account(usernames[browser % usernames.length]!)];
  if (usernames.length < concurrency) throw new Error(`forced change needs an account per browser: ${usernames.length} accounts, ${concurrency} browsers`);
  return usernames.filter((_, i) => i % concurrency === browser).map(account);
}

/**
 * `concurrency` browsers signing in again and again for `seconds`. `accounts` carries what
 * the browsers know of their accounts from one run to the next (the warm-up's changed
 * passwords, for the measured run that follows it).
 */
export async function runSignIns(target: SignInTarget, concurrency: number, seconds: number, accounts = new Map<string, BrowserAccount>()): Promise<SignInResult> {
  const steps = target.forcedChange ? FORCED_CHANGE_STEPS : STEPS;
  const result: SignInResult = {
    completed: 0,
    failed: 0,
    seconds: 0,
    perSecond: 0,
    latencies: [],
    steps: Object.fromEntries(steps.map((s) => [s, []])),
    changeNumbers: [],
    waits: { count: 0, ms: 0 },
    failures: {},
    loginStatuses: {},
  };
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const loop = async (browser: number) => {
    const mine = accountsOf(target, concurrency, browser, accounts);
    while (performance.now() < deadline) {
      // not in turn from the first: a warm-up has just changed the first ones' passwords
      const account = mine.reduce((oldest, a) => (a.expiredAfter < oldest.expiredAfter ? a : oldest));
      const wait = Math.min(account.expiredAfter, deadline) - performance.now();
      if (wait > 0) {
        // the password this browser set has not expired yet: no change page would come
        result.waits.count += 1;
        result.waits.ms += wait;
        await new Promise((resolve) => setTimeout(resolve, wait));
        if (performance.now() >= deadline) break;
      }
      const t0 = performance.now();
      try {
        const times = await signInOnce(target, result.loginStatuses, account);
        result.completed += 1;
        result.latencies.push(performance.now() - t0);
        for (const step of steps) result.steps[step]!.push(times[step]!);
        if (target.forcedChange) result.changeNumbers.push(account.changes);
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
