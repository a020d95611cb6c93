/**
 * Reads discovery every 50 ms for a given time and prints the latencies (JSON). A process
 * of its own, so that the stampede's load generator, busy with thousands of sign-ins, does
 * not add its own delays to what the server's cheap endpoints are measured to take.
 *
 *   npx tsx bench/discovery-probe.ts <issuer> <seconds>
 */
import http from 'node:http';

const [issuer, seconds] = [process.argv[2]!, Number(process.argv[3])];
const url = new URL('/.well-known/openid-configuration', issuer);
const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
const latencies: number[] = [];
let failures = 0;

function read(): Promise<void> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = http.get(url, { agent }, (res) => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode === 200) latencies.push(performance.now() - t0);
        else failures += 1;
        resolve();
      });
    });
    req.on('error', () => {
      failures += 1;
      resolve();
    });
  });
}

const reads: Promise<void>[] = [];
const timer = setInterval(() => reads.push(read()), 50);
setTimeout(async () => {
  clearInterval(timer);
  await Promise.all(reads);
  agent.destroy();
  process.stdout.write(JSON.stringify({ latencies, failures }));
}, seconds * 1000);
