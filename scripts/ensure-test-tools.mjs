#!/usr/bin/env node
// `pretest`: the tools the tests drive. The browser tests use Debian's Chromium (playwright-core
// never downloads a browser of its own); the outage tests start, stop and restart a redis-server
// and a PostgreSQL cluster of their own. When everything is present this returns at once; when
// something is missing and we are root on Debian it installs it with apt-get (without starting
// any service); otherwise it says how and fails.
import { accessSync, constants, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const say = (msg) => console.error(`ensure-test-tools: ${msg}`);
const isExecutable = (path) => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

const fromEnv = process.env.CHROMIUM_PATH?.trim();
if (fromEnv && !isExecutable(fromEnv)) {
  say(`CHROMIUM_PATH=${fromEnv} is not an executable file: point it at a Chromium binary, or unset it to use Debian's /usr/bin/chromium.`);
  process.exit(1);
}
const postgresBinaries = () => {
  const base = '/usr/lib/postgresql';
  return existsSync(base) && readdirSync(base).some((v) => isExecutable(join(base, v, 'bin', 'initdb')));
};

const tools = [
  { name: 'Chromium', present: () => isExecutable(fromEnv || '/usr/bin/chromium'), packages: ['chromium', 'fonts-liberation'] },
  { name: 'redis-server', present: () => isExecutable('/usr/bin/redis-server'), packages: ['redis-server'] },
  { name: 'PostgreSQL', present: postgresBinaries, packages: ['postgresql'] },
];
const missing = tools.filter((tool) => !tool.present());
if (missing.length === 0) process.exit(0);

const names = missing.map((t) => t.name).join(', ');
const packages = missing.flatMap((t) => t.packages);
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const isDebian = existsSync('/etc/debian_version');
const hasApt = spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;
if (!(isRoot && isDebian && hasApt)) {
  say(`missing: ${names}. Install with 'sudo apt-get install -y ${packages.join(' ')}' (Debian)${missing.some((t) => t.name === 'Chromium') ? ', or set CHROMIUM_PATH to a Chromium binary' : ''}.`);
  process.exit(1);
}

say(`missing: ${names}; installing ${packages.join(' ')} with apt-get (this takes a minute or two)…`);
const logFile = join(mkdtempSync(join(tmpdir(), 'ensure-test-tools-')), 'apt.log');
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
// the packages' services must not start: the tests start what they need on loopback
const policy = '/usr/sbin/policy-rc.d';
const ownPolicy = !existsSync(policy);
if (ownPolicy) writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
let log = '';
let failed = false;
try {
  for (const args of [
    ['-q', '-y', 'update'],
    ['-q', '-y', '-o', 'Dpkg::Use-Pty=0', 'install', '--no-install-recommends', ...packages],
  ]) {
    const r = spawnSync('apt-get', args, { env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    log += `+ apt-get ${args.join(' ')}\n${r.stdout ?? ''}${r.stderr ?? ''}`;
    writeFileSync(logFile, log);
    if (r.status !== 0) {
      say(`'apt-get ${args.join(' ')}' failed (${r.error?.message ?? `exit ${r.status}`}); last lines of ${logFile}:`);
      console.error(readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n'));
      failed = true;
      break;
    }
  }
} finally {
  if (ownPolicy) rmSync(policy, { force: true });
}
if (failed) process.exit(1);

const still = missing.filter((tool) => !tool.present());
if (still.length) {
  say(`apt-get finished but ${still.map((t) => t.name).join(', ')} is still missing (log: ${logFile}).`);
  process.exit(1);
}
say(`installed ${names}.`);
