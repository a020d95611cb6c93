/**
 * The flood (issue 13): one address sends `GET /auth` — a new sign-in each, as a script
 * would — as fast as 64 connections allow, for a given time, and prints what it got (JSON).
 * A process of its own, so that its loop does not slow the users' driver. The server must
 * trust one proxy hop (TRUST_PROXY=1): the address is the X-Forwarded-For below.
 *
 *   npx tsx bench/flood.ts <issuer> <seconds> <client_id> <redirect_uri>
 */
import http from 'node:http';

const FLOOD_ADDRESS = '192.0.2.66';

const [issuer, seconds, clientId, redirectUri] = [process.argv[2]!, Number(process.argv[3]), process.argv[4]!, process.argv[5]!];
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const statuses: Record<string, number> = {};
let requests = 0;
const deadline = performance.now() + seconds * 1000;

function once(): Promise<void> {
  const url = new URL('/auth', issuer);
  url.search = new URLSearchParams({ client_id: clientId, redirect_uri: redirectUri, response_type: 'code', scope: 'openid', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' }).toString();
  return new Promise((resolve) => {
    const req = http.get(url, { agent, headers: { 'x-forwarded-for': FLOOD_ADDRESS } }, (res) => {
      res.resume();
      res.on('end', () => {
        requests += 1;
        statuses[res.statusCode ?? 0] = (statuses[res.statusCode ?? 0] ?? 0) + 1;
        resolve();
      });
    });
    req.on('error', () => {
      statuses['error'] = (statuses['error'] ?? 0) + 1;
      resolve();
    });
  });
}

async function loop(): Promise<void> {
  while (performance.now() < deadline) await once();
}

await Promise.all(Array.from({ length: 64 }, loop));
agent.destroy();
process.stdout.write(JSON.stringify({ requests, perSecond: requests / seconds, statuses }));
