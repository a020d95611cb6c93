import { FormBrowser, formFields } from '../support/browser.js';
import { authorizationUrl, relyingParty, startAuthorization } from '../support/oidc.js';
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
