import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../../src/config.js';

const root = projectRoot();

/** Runs `src/main.ts` as `npm start` would, with a controlled environment. */
function start(env: Record<string, string>, untilOutput?: RegExp) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH, DATA_DIR: mkdtempSync(join(tmpdir(), 'iam-start-')), PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
    if (untilOutput?.test(stdout)) child.kill('SIGTERM');
  });
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr: stderr.split('\n').filter((l) => l && !/Unsupported runtime/.test(l)).join('\n') })),
  );
}

describe('start-up', () => {
  it('starts on the embedded defaults, printing the services and the demo accounts, and stops cleanly on SIGTERM', async () => {
    const result = await start({}, /Utenze demo:[\s\S]*MI654321/);
    expect(result.stdout).toMatch(/IAM Istruzione in ascolto su http:\/\/127\.0\.0\.1:\d+/);
    for (const name of ['Istanze OnLine', 'Pago in Rete', 'Portale Formazione', 'Posta Istruzione', 'SIDI']) expect(result.stdout).toContain(name);
    expect(result.stdout).toContain('mario.rossi');
    expect(result.stdout).toContain('MI123456');
    expect(result.code).toBe(0);
  });

  it.each([
    [{ PORT: 'abc' }, /^iam-istruzione: invalid configuration: PORT must be a port number/],
    [{ DATABASE_URL: 'postgres://u:topsecret@127.0.0.1:1/iam' }, /^iam-istruzione: cannot open the database: PostgreSQL at postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/iam \(DATABASE_URL\): connect ECONNREFUSED/],
    [{ REDIS_URL: 'redis://127.0.0.1:1' }, /^iam-istruzione: cannot reach Redis at redis:\/\/127\.0\.0\.1:1 \(REDIS_URL\): connect ECONNREFUSED/],
    [{ REDIS_URL: 'redis://:topsecret@127.0.0.1:1,redis://127.0.0.1:2', REDIS_CLUSTER: 'true' }, /^iam-istruzione: cannot reach Redis Cluster at redis:\/\/:\*\*\*@127\.0\.0\.1:1, redis:\/\/127\.0\.0\.1:2 \(REDIS_URL\): /],
  ])('refuses to start with one clear line: %o', async (env, message) => {
    const result = await start(env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.split('\n')).toHaveLength(1);
    expect(result.stderr).not.toContain('topsecret');
  });

  it('names the service and the field of a malformed clients.json', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'iam-clients-')), 'clients.json');
    writeFileSync(file, JSON.stringify({ services: [{ id: 'pago-in-rete', name: 'Pago in Rete', firstParty: 'sì' }] }));
    const result = await start({ CLIENTS_FILE: file });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`iam-istruzione: ${file}: service "pago-in-rete", field "firstParty": Invalid input: expected boolean, received string`);
  });

  it('refuses the committed demo secrets in production, naming the service and the field', async () => {
    const result = await start({ NODE_ENV: 'production' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/clients\.json: service "istanze-online", field "clientSecret": is a demo secret committed with the project/);
  });

  it('starts in production with a real catalogue and seeds no demo account', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'iam-clients-')), 'clients.json');
    writeFileSync(file, JSON.stringify({
      services: [{
        id: 'servizio-reale', name: 'Servizio reale', clientSecret: 'k'.repeat(43), redirectUris: ['https://servizio.example.it/cb'],
        firstParty: true, acceptedAccountTypes: ['standard'], scopes: ['openid'], grantTypes: ['authorization_code'],
      }],
    }));
    const result = await start({ NODE_ENV: 'production', CLIENTS_FILE: file }, /Servizio reale/);
    expect(result.stdout).toMatch(/IAM Istruzione in ascolto/);
    expect(result.stdout).not.toContain('Utenze demo');
    expect(result.code).toBe(0);
  });
});
