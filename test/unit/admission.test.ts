import { createPasswordWorkQueue, type AdmissionLimits } from '../../src/http/admission.js';

const limits: AdmissionLimits = { concurrency: 1, maxWaitMs: 100, maxEventLoopDelayMs: 200, retryAfterSeconds: [120, 300] };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('password work admission', () => {
  let queue: ReturnType<typeof createPasswordWorkQueue>;
  afterEach(() => queue.close());

  it('admits while the expected wait is under the bound, and turns new work away past it', async () => {
    queue = createPasswordWorkQueue(limits);
    expect(queue.admit()).toEqual({ admitted: true });
    const release: (() => void)[] = [];
    const held = Array.from({ length: 4 }, () => queue.run(() => new Promise<void>((resolve) => release.push(resolve))));
    await sleep(5);
    // four operations of ~50 ms each ahead, one at a time: 200 ms > 100 ms
    const refused = queue.admit();
    expect(refused).toMatchObject({ admitted: false, reason: 'queue' });
    if (!refused.admitted) {
      expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(120);
      expect(refused.retryAfterSeconds).toBeLessThanOrEqual(300);
    }
    expect(queue.stats()).toMatchObject({ waiting: 3, running: 1, shed: { queue: 1, event_loop: 0 } });

    // the wave passes: admitted again, by itself
    while (release.length || queue.stats().running) {
      release.shift()?.();
      await sleep(1);
    }
    await Promise.all(held);
    expect(queue.admit()).toEqual({ admitted: true });
  });

  it('runs the work of sign-ins already admitted before new ones', async () => {
    queue = createPasswordWorkQueue(limits);
    const order: string[] = [];
    let open!: () => void;
    const gate = queue.run(() => new Promise<void>((resolve) => (open = resolve)));
    const fresh = [1, 2, 3].map((i) => queue.run(async () => { order.push(`new ${i}`); }));
    const continued = queue.continuing(() => queue.run(async () => { order.push('admitted'); }));
    await sleep(5);
    open();
    await Promise.all([gate, ...fresh, continued]);
    expect(order).toEqual(['admitted', 'new 1', 'new 2', 'new 3']);
  });

  it('never runs more operations at once than its concurrency', async () => {
    queue = createPasswordWorkQueue({ ...limits, concurrency: 2 });
    let running = 0;
    let peak = 0;
    await Promise.all(Array.from({ length: 10 }, () => queue.run(async () => {
      peak = Math.max(peak, ++running);
      await sleep(2);
      running -= 1;
    })));
    expect(peak).toBe(2);
  });

  it('does not watch the event loop before it is asked to (the start-up\'s own work is not overload)', async () => {
    queue = createPasswordWorkQueue({ ...limits, maxEventLoopDelayMs: 50 });
    const end = Date.now() + 2500;
    while (Date.now() < end) {
      const until = Date.now() + 150;
      while (Date.now() < until) { /* busy */ }
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(queue.admit()).toEqual({ admitted: true });
    expect(queue.stats().eventLoopDelayMs).toBe(0);
  });

  it('is not moved by one long pause of the event loop', async () => {
    queue = createPasswordWorkQueue({ ...limits, maxEventLoopDelayMs: 50 });
    queue.watchEventLoop();
    await sleep(200);
    const until = Date.now() + 1500;
    while (Date.now() < until) { /* one pause, as a migration on PGlite makes */ }
    for (let i = 0; i < 22; i++) {
      expect(queue.admit()).toEqual({ admitted: true });
      await sleep(100);
    }
    expect(queue.admit()).toEqual({ admitted: true });
  });

  it('turns new work away while the event loop lags', async () => {
    queue = createPasswordWorkQueue({ ...limits, maxEventLoopDelayMs: 50 });
    queue.watchEventLoop();
    // three seconds of an event loop busy 150 ms at a time (the lag is sampled each second)
    const end = Date.now() + 3000;
    while (Date.now() < end) {
      const until = Date.now() + 150;
      while (Date.now() < until) { /* busy */ }
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(queue.admit()).toMatchObject({ admitted: false, reason: 'event_loop' });
    await sleep(2100); // two samples: the second one sees an idle loop
    expect(queue.admit()).toEqual({ admitted: true });
  });
});
