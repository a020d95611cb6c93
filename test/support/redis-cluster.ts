import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';

/**
 * A Redis Cluster of a test's own: three masters on loopback (redis-server with
 * cluster-enabled), the 16384 slots split between them by `redis-cli --cluster create`.
 */
export interface RedisClusterUnderTest {
  /** the nodes' URLs, for REDIS_URL with REDIS_CLUSTER=true */
  urls: string[];
  stop(): Promise<void>;
}

async function startNode(dir: string): Promise<{ port: number; process: ChildProcess }> {
  const port = await freePort();
  // the bus port is port + 10000 by default, which may be past 65535 for an ephemeral port
  const busPort = await freePort();
  const nodeDir = mkdtempSync(join(dir, 'node-'));
  const child = spawn('redis-server', [
    '--bind', '127.0.0.1', '--port', String(port), '--cluster-enabled', 'yes', '--cluster-port', String(busPort),
    '--cluster-config-file', join(nodeDir, 'nodes.conf'), '--dir', nodeDir, '--save', '', '--appendonly', 'no',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  for (let i = 0; i < 100 && !out.includes('Ready to accept connections'); i++) await new Promise((r) => setTimeout(r, 50));
  if (!out.includes('Ready to accept connections')) throw new Error(`redis-server (cluster node) did not start:\n${out}`);
  return { port, process: child };
}

function clusterState(port: number): string {
  const info = spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'cluster', 'info'], { encoding: 'utf8' }).stdout;
  return /cluster_state:(\w+)/.exec(info)?.[1] ?? 'unknown';
}

export async function startRedisCluster(): Promise<RedisClusterUnderTest> {
  const dir = mkdtempSync(join(tmpdir(), 'iam-redis-cluster-'));
  const nodes = await Promise.all([startNode(dir), startNode(dir), startNode(dir)]);
  const stop = async () => {
    await Promise.all(nodes.map(async ({ process }) => {
      if (process.exitCode !== null) return;
      const exited = once(process, 'exit');
      process.kill('SIGTERM');
      await exited;
    }));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const create = spawnSync('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8' });
    if (create.status !== 0) throw new Error(`redis-cli --cluster create failed:\n${create.stdout}${create.stderr}`);
    // the nodes agree through the bus a moment after the slots are assigned
    for (let i = 0; i < 100 && !nodes.every((n) => clusterState(n.port) === 'ok'); i++) await new Promise((r) => setTimeout(r, 100));
    if (!nodes.every((n) => clusterState(n.port) === 'ok')) throw new Error('the Redis Cluster did not reach cluster_state:ok');
  } catch (error) {
    await stop();
    throw error;
  }
  return { urls: nodes.map((n) => `redis://127.0.0.1:${n.port}`), stop };
}
