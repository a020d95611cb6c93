#!/usr/bin/env node
// `pretest`: the browser tests drive Debian's Chromium (playwright-core never downloads a
// browser of its own). When it is present this returns at once; when it is missing and we
// are root on Debian it installs it with apt-get; otherwise it says how and fails.
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const DEFAULT_PATH = '/usr/bin/chromium';
const fromEnv = process.env.CHROMIUM_PATH?.trim();
const chromium = fromEnv || DEFAULT_PATH;

const isExecutable = (path) => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

if (isExecutable(chromium)) process.exit(0);

const say = (msg) => console.error(`ensure-test-tools: ${msg}`);

if (fromEnv) {
  say(`CHROMIUM_PATH=${fromEnv} is not an executable file: point it at a Chromium binary, or unset it to use Debian's ${DEFAULT_PATH}.`);
  process.exit(1);
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const isDebian = existsSync('/etc/debian_version');
const hasApt = spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;

if (!(isRoot && isDebian && hasApt)) {
  say(`Chromium not found at ${DEFAULT_PATH}: install it with 'sudo apt-get install -y chromium' (Debian), or set CHROMIUM_PATH to a Chromium binary.`);
  process.exit(1);
}

say(`Chromium not found at ${DEFAULT_PATH}: installing Debian's chromium with apt-get (this takes a minute or two)…`);
const logFile = join(mkdtempSync(join(tmpdir(), 'ensure-test-tools-')), 'apt.log');
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
let log = '';
for (const args of [
  ['-q', '-y', 'update'],
  ['-q', '-y', '-o', 'Dpkg::Use-Pty=0', 'install', '--no-install-recommends', 'chromium', 'fonts-liberation'],
]) {
  const r = spawnSync('apt-get', args, { env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  log += `+ apt-get ${args.join(' ')}\n${r.stdout ?? ''}${r.stderr ?? ''}`;
  writeFileSync(logFile, log);
  if (r.status !== 0) {
    say(`'apt-get ${args.join(' ')}' failed (${r.error?.message ?? `exit ${r.status}`}); last lines of ${logFile}:`);
    console.error(readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n'));
    process.exit(1);
  }
}

if (!isExecutable(DEFAULT_PATH)) {
  say(`apt-get finished but ${DEFAULT_PATH} is still missing (log: ${logFile}).`);
  process.exit(1);
}
say(`installed ${DEFAULT_PATH}.`);
