// Entry point: `npm run demo-rp -- <service-id>`
// (env ISSUER, CLIENTS_FILE, PORT, HOST, TOKEN_ENDPOINT_AUTH_METHOD).
import { createDemoRp } from './app.js';
import { listServiceIds } from './clients.js';
import type { TokenEndpointAuthMethod } from './oidc.js';

async function main(): Promise<void> {
  const serviceId = process.argv[2];
  const issuer = process.env.ISSUER || 'http://localhost:3000';
  const clientsFile = process.env.CLIENTS_FILE || './clients.json';
  const host = process.env.HOST || '127.0.0.1';

  if (!serviceId || serviceId.startsWith('-')) {
    const ids = await listServiceIds(clientsFile);
    fail(`usage: npm run demo-rp -- <service-id>${ids.length ? `  (one of: ${ids.join(', ')})` : ''}`);
  }

  let port: number | undefined;
  if (process.env.PORT) {
    port = Number(process.env.PORT);
    if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`PORT "${process.env.PORT}" is not a port number`);
  }

  const authMethod = process.env.TOKEN_ENDPOINT_AUTH_METHOD || 'client_secret_basic';
  if (authMethod !== 'client_secret_basic' && authMethod !== 'client_secret_post') {
    fail('TOKEN_ENDPOINT_AUTH_METHOD must be client_secret_basic or client_secret_post');
  }

  const rp = await createDemoRp({
    serviceId, issuer, clientsFile, port, host, tokenEndpointAuthMethod: authMethod as TokenEndpointAuthMethod,
  });
  console.log(`demo-rp: ${rp.client.name} (${rp.client.id}) on ${rp.url}, provider ${issuer}`);

  const stop = () => {
    rp.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

function fail(message: string): never {
  console.error(`demo-rp: ${message}`);
  process.exit(1);
}

main().catch((err: unknown) => fail(err instanceof Error ? err.message : String(err)));
