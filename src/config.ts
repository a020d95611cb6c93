import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** The directory holding package.json, views/ and clients.json, from src/ or dist/src/. */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('package.json not found above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
  return dir;
}

const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const urlWithProtocols = (protocols: string[], example: string) =>
  z.string().refine((v) => {
    try {
      return protocols.includes(new URL(v).protocol);
    } catch {
      return false;
    }
  }, `must be a URL starting with ${protocols.join(' or ')} (e.g. ${example})`);

const environmentSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce.number({ error: 'must be a port number between 0 and 65535' }).int().min(0).max(65535).default(3000),
  ISSUER: urlWithProtocols(['http:', 'https:'], 'https://iam.pubblica.istruzione.it').optional(),
  DATABASE_URL: urlWithProtocols(['postgres:', 'postgresql:'], 'postgres://user:pass@host:5432/db').optional(),
  REDIS_URL: urlWithProtocols(['redis:', 'rediss:'], 'redis://127.0.0.1:6379').optional(),
  SMTP_URL: urlWithProtocols(['smtp:', 'smtps:'], 'smtp://mailpit:1025').optional(),
  MAIL_FROM: z.string().min(3).default('IAM Istruzione <noreply@istruzione.it>'),
  DATA_DIR: z.string().min(1).default('data'),
  CLIENTS_FILE: z.string().min(1).default('clients.json'),
  TRUST_PROXY: booleanFlag.default(false),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DEMO_SEED: booleanFlag.optional(),
  HELPDESK_PHONE: z.string().min(3).default('080 926 7603'),
  HELPDESK_URL: z.string().min(3).default('https://www.istruzione.it/urp/'),
});

export type AccountType = 'standard' | 'mi';

export interface Config {
  readonly env: 'development' | 'production' | 'test';
  readonly host: string;
  readonly port: number;
  /** Public URL of the provider; defaults to http://localhost:PORT. */
  readonly issuer: string;
  readonly databaseUrl?: string;
  readonly redisUrl?: string;
  readonly smtpUrl?: string;
  readonly mailFrom: string;
  /** Absolute path where the embedded defaults keep their files (PGlite, outbox). */
  readonly dataDir: string;
  readonly clientsFile: string;
  readonly trustProxy: boolean;
  readonly logLevel: string;
  /** Create the demo accounts at start (default: only on the embedded database). */
  readonly demoSeed: boolean;
  readonly helpdesk: { readonly phone: string; readonly url: string };
  readonly rootDir: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration: ${problems.join('; ')} (see .env.example)`);
  }
}

/** Parses the environment once; every problem is reported, not just the first. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = environmentSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`),
    );
  }
  const e = parsed.data;
  const rootDir = projectRoot();
  const issuer = (e.ISSUER ?? `http://localhost:${e.PORT}`).replace(/\/+$/, '');
  return Object.freeze({
    env: e.NODE_ENV,
    host: e.HOST,
    port: e.PORT,
    issuer,
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    smtpUrl: e.SMTP_URL,
    mailFrom: e.MAIL_FROM,
    dataDir: resolve(rootDir, e.DATA_DIR),
    clientsFile: resolve(rootDir, e.CLIENTS_FILE),
    trustProxy: e.TRUST_PROXY,
    logLevel: e.LOG_LEVEL,
    demoSeed: e.DEMO_SEED ?? !e.DATABASE_URL,
    helpdesk: Object.freeze({ phone: e.HELPDESK_PHONE, url: e.HELPDESK_URL }),
    rootDir,
  });
}

export function readJsonFile(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8'));
}
