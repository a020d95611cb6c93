import { once } from 'node:events';
import { createServer } from 'node:http';

export interface LogoutReceiver {
  url: string;
  /** logout tokens received, with the path they were posted to; clear it with `.length = 0` */
  tokens: Array<{ path: string; token: string }>;
  close(): void;
}

/** A stand-in for the services' back-channel logout endpoints, on 127.0.0.1. */
export async function startLogoutReceiver(): Promise<LogoutReceiver> {
  const tokens: LogoutReceiver['tokens'] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      tokens.push({ path: req.url ?? '', token: new URLSearchParams(body).get('logout_token') ?? '' });
      res.writeHead(200).end();
    });
  }).listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, tokens, close: () => server.close() };
}
