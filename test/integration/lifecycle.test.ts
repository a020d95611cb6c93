import { FormBrowser, formFields } from '../support/browser.js';
import { authorizationUrl, redeem, relyingParty, signIn, startAuthorization } from '../support/oidc.js';
import { startTestServer, testPerson, testService } from '../support/server.js';

describe('probes and shutdown', () => {
  it('answers liveness and readiness, with the admission queue', async () => {
    const server = await startTestServer();
    try {
      const live = await fetch(`${server.url}/healthz`);
      expect(live.status).toBe(200);
      expect(await live.json()).toEqual({ status: 'ok' });
      const ready = await fetch(`${server.url}/readyz`);
      expect(ready.status).toBe(200);
      const body = await ready.json();
      expect(body).toMatchObject({ status: 'ok', checks: { database: true }, admission: { waiting: 0, running: 0, shed: { queue: 0, event_loop: 0 } } });
      expect(ready.headers.get('cache-control')).toBe('no-store');
    } finally {
      await server.close();
    }
  });

  it('publishes the operator\'s figures at /metrics: sign-ins, tokens, latency per route, the password work queue', async () => {
    const server = await startTestServer({ services: [testService({ id: 'servizio-metriche' })] });
    try {
      const rp = await relyingParty(server.url, server.services[0]!);
      const person = testPerson();
      const account = await server.deps.provisioning.provision(person);
      await signIn(new FormBrowser(server.url), rp, { username: account.username, password: 'Sbagliata-Password-9' });
      const { start, page } = await signIn(new FormBrowser(server.url), rp, { username: account.username, password: person.password });
      await redeem(rp, page.url, start);

      const response = await fetch(`${server.url}/metrics`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toContain('text/plain');
      const text = await response.text();
      expect(text).toMatch(/^iam_sign_ins_total\{outcome="success"\} 1$/m);
      expect(text).toMatch(/^iam_sign_ins_total\{outcome="failure"\} 1$/m);
      expect(text).toMatch(/^iam_tokens_issued_total\{grant_type="authorization_code"\} 1$/m);
      expect(text).toMatch(/^iam_http_request_duration_seconds_count\{route="discovery",method="GET",status="2xx"\} \d+$/m);
      expect(text).toMatch(/^iam_http_request_duration_seconds_count\{route="\/interaction\/:uid\/login",method="POST",status="[234]xx"\} \d+$/m);
      expect(text).toMatch(/^iam_password_work_waiting 0$/m);
      expect(text).toMatch(/^iam_event_loop_delay_seconds [\d.e-]+$/m);
      expect(text).toContain('iam_process_resident_memory_bytes');
      // nothing a client typed becomes a label
      expect(text).not.toContain(account.username);
    } finally {
      await server.close();
    }
  });

  it('keeps /metrics for the operator in production: absent without a token, behind the bearer token with one', async () => {
    const production = { NODE_ENV: 'production', ISSUER: 'http://localhost:1', DEMO_SEED: 'false' };
    const services = [testService({ id: 'servizio-prod' })];
    const closed = await startTestServer({ services, env: { ...production } });
    const guarded = await startTestServer({ services, env: { ...production, METRICS_TOKEN: 'token-di-prova-0123456789' } });
    try {
      const local = (server: typeof closed, path: string, headers: Record<string, string> = {}) =>
        fetch(`${server.url}${path}`, { headers: { host: 'localhost:1', ...headers } });
      expect((await local(closed, '/metrics')).status).toBe(404);
      expect((await local(guarded, '/metrics')).status).toBe(401);
      expect((await local(guarded, '/metrics', { authorization: 'Bearer sbagliato' })).status).toBe(401);
      expect((await local(guarded, '/metrics', { authorization: 'Bearer token-di-prova-0123456789' })).status).toBe(200);
    } finally {
      await closed.close();
      await guarded.close();
    }
  });

  it('finishes a sign-in in flight before closing, and accepts nothing new meanwhile', async () => {
    const server = await startTestServer({
      services: [testService({ id: 'servizio-chiusura' })],
      admission: { concurrency: 1, maxWaitMs: 10_000, maxEventLoopDelayMs: 10_000, retryAfterSeconds: [120, 300] },
    });
    const rp = await relyingParty(server.url, server.services[0]!);
    const person = testPerson();
    const account = await server.deps.provisioning.provision(person);
    const browser = new FormBrowser(server.url);
    const page = await startAuthorization(browser, await authorizationUrl(rp));
    const form = formFields(page.body, /\/login$/);

    // the sign-in's password check waits behind this operation until it is released
    let release!: () => void;
    const blocker = server.deps.passwordWork.run(() => new Promise<void>((resolve) => (release = resolve)));
    const inFlight = browser.post(form.action, { ...form.fields, username: account.username, password: person.password });
    await new Promise((resolve) => setTimeout(resolve, 200));

    const closing = server.close(5000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
    release();
    await blocker;
    const answer = await inFlight;
    expect(answer.status).toBe(303);
    expect(answer.headers.get('location')).toContain('/auth/');
    await closing;
  });
});
