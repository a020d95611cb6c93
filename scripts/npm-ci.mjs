#!/usr/bin/env node
// `npm ci`, with one narrow fallback. Usage: node scripts/npm-ci.mjs [npm ci args...]
//
// npm ci refuses a lockfile that lacks entries for other platforms' optional binaries
// ("Missing: @swc/core-darwin-arm64@ from lock file"). Such a lockfile is what `npm install`
// writes when the registry it talks to does not serve those binaries (as on our machines),
// and `npm install` itself accepts it unchanged. Only in that case this falls back to a clean
// `npm install` from the same lockfile, and still fails the way npm ci would if that install
// changed any locked package or added one that is not an optional platform binary.
// The committed lockfile is left byte-for-byte as it was.
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';

const args = process.argv.slice(2);
const LOCK = 'package-lock.json';
const say = (msg) => console.error(`npm-ci: ${msg}`);

// Runs npm; its output is streamed, or with `quiet` kept back for the caller to show.
function npm(cmd, { quiet = false } = {}) {
  return new Promise((resolve) => {
    const child = spawn('npm', [cmd, '--no-audit', '--no-fund', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => { out += d; if (!quiet) process.stdout.write(d); });
    child.stderr.on('data', (d) => { out += d; if (!quiet) process.stderr.write(d); });
    child.on('error', (err) => { say(err.message); resolve({ code: 1, out }); });
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), out }));
  });
}

const lockText = readFileSync(LOCK, 'utf8');
const before = JSON.parse(lockText).packages ?? {};

// npm ci's output is held back: on the refusal handled below it is the whole usage text.
const ci = await npm('ci', { quiet: true });
if (ci.code === 0) {
  process.stdout.write(ci.out);
  process.exit(0);
}

const outOfSync = /can only install packages when your package\.json and package-lock\.json/.test(ci.out);
const missing = [...ci.out.matchAll(/Missing: (.+?)@\S* from lock file/g)].map((m) => m[1]);
const optionalSomewhere = new Set(
  Object.values(before).flatMap((p) => Object.keys(p.optionalDependencies ?? {})),
);
if (!outOfSync || missing.length === 0 || !missing.every((name) => optionalSomewhere.has(name))) {
  process.stderr.write(ci.out);
  process.exit(ci.code);
}

say(`npm ci refused the lockfile only for ${missing.length} other-platform optional binaries`);
say(`(${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', …' : ''}) that this registry may not serve;`);
say('installing from the same lockfile with npm install, checking it stays in sync.');
rmSync('node_modules', { recursive: true, force: true });
const inst = await npm('install');
const after = JSON.parse(readFileSync(LOCK, 'utf8')).packages ?? {};
writeFileSync(LOCK, lockText); // keep the committed lockfile untouched
if (inst.code !== 0) process.exit(inst.code);

const problems = [];
for (const field of ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies']) {
  const a = JSON.stringify(before['']?.[field] ?? {});
  const b = JSON.stringify(after['']?.[field] ?? {});
  if (a !== b) problems.push(`the root's ${field} differ from package.json's`);
}
for (const [key, p] of Object.entries(before)) {
  const q = after[key];
  if (!q) problems.push(`${key || '(root)'} was removed`);
  else if (p.version !== q.version) problems.push(`${key} ${p.version} -> ${q.version}`);
}
for (const [key, q] of Object.entries(after)) {
  if (!(key in before) && !q.optional) problems.push(`${key} ${q.version} was added`);
}
if (problems.length > 0) {
  say('package.json and package-lock.json are out of sync (run npm install and commit the lockfile):');
  for (const line of problems.slice(0, 30)) console.error(`  ${line}`);
  process.exit(1);
}
say('installed exactly the locked packages.');
