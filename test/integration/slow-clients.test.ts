import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { startTestServer, type TestServer } from '../support/server.js';

// Slow-loris: clients that open connections and trickle their request to hold the server.
// The bounds here are short (production: headers within 20 s, the whole request within 30 s).

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ slowClientTimeouts: { headersMs: 1000, requestMs: 2000, checkEveryMs: 200 } });
});
afterAll(() => server.close());

/** A connection that sends `start`, then one more byte of `drip` every 200 ms; what it got back and when it was closed. */
function trickle(start: string, drip: string) {
  const { port } = new URL(server.url);
  const socket: Socket = connect(Number(port), '127.0.0.1');
  let received = '';
  const opened = performance.now();
  socket.on('data', (chunk) => (received += chunk));
  socket.on('error', () => undefined);
  socket.write(start);
  let i = 0;
  const timer = setInterval(() => {
    if (!socket.destroyed && !socket.writableEnded) socket.write(drip[i++ % drip.length]!);
  }, 200);
  const closed = once(socket, 'close').then(() => {
    clearInterval(timer);
    return { received, afterMs: performance.now() - opened };
  });
  return { closed, socket };
}

describe('slow clients', () => {
  it('are cut with 408 once their time is up, while everyone else is served at once', async () => {
    const host = new URL(server.url).host;
    const slowHeaders = Array.from({ length: 100 }, () => trickle(`GET /.well-known/openid-configuration HTTP/1.1\r\nHost: ${host}\r\n`, 'X-Slow: aaaaaaaa\r\n'));
    const slowBodies = Array.from({ length: 20 }, () =>
      trickle(`POST /token HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 2000\r\n\r\n`, 'grant_type=x&'));

    // meanwhile, a browser and a service get their answers as usual
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      expect((await fetch(`${server.url}/.well-known/openid-configuration`)).status).toBe(200);
      expect(performance.now() - started).toBeLessThan(500);
      await new Promise((r) => setTimeout(r, 150));
    }

    const headerCuts = await Promise.all(slowHeaders.map((s) => s.closed));
    for (const cut of headerCuts) {
      expect(cut.received).toMatch(/^HTTP\/1\.1 408/);
      expect(cut.afterMs).toBeLessThan(1000 + 200 + 1000);
    }
    const bodyCuts = await Promise.all(slowBodies.map((s) => s.closed));
    for (const cut of bodyCuts) {
      expect(cut.received).toMatch(/^HTTP\/1\.1 408/);
      expect(cut.afterMs).toBeLessThan(2000 + 200 + 1000);
    }
  });
});
