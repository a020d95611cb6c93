import { existsSync, readFileSync } from 'node:fs';
import { BlockList, isIP } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Cron } from 'croner';
import { z } from 'zod';

import type { RedisTarget } from './adapters/redis-client.js';

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
  REDIS_URL: z
    .string()
    .refine(
      (v) => v.split(',').every((url) => urlWithProtocols(['redis:', 'rediss:'], '').safeParse(url.trim()).success),
      'must be a URL starting with redis: or rediss: (e.g. redis://127.0.0.1:6379), or with REDIS_CLUSTER=true a comma-separated list of them',
    )
    .optional(),
  REDIS_CLUSTER: booleanFlag.default(false),
  SMTP_URL: urlWithProtocols(['smtp:', 'smtps:'], 'smtp://mailpit:1025').optional(),
  MAIL_FROM: z.string().min(3).default('IAM Istruzione <noreply@istruzione.it>'),
  DATA_DIR: z.string().min(1).default('data'),
  CLIENTS_FILE: z.string().min(1).default('clients.json'),
  TRUST_PROXY: z.string().transform(parseProxyTrust).optional(),
  KEYS_ENCRYPTION_KEY: z
    .string()
    .refine((v) => decodeKey(v) !== null, 'must be 32 random bytes, base64url-encoded (e.g. openssl rand -base64 32)')
    .optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DEMO_SEED: booleanFlag.optional(),
  PASSWORD_REMINDER_DAYS: z
    .string()
    .regex(/^\s*\d{1,3}(\s*,\s*\d{1,3})*\s*$/, 'must be a comma-separated list of days, e.g. 14,7,2')
    .default('14,7,2'),
  PASSWORD_WORK_CONCURRENCY: z.coerce.number().int().min(1).max(64).optional(),
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  SIGN_IN_STARTS_PER_MINUTE: z.coerce.number().int().min(1).default(120),
  MEMORY_STORE_MAX_INTERACTIONS: z.coerce.number().int().min(100).default(20_000),
  AUDIT_RETENTION_MONTHS: z.coerce.number().int().min(1).max(240).default(24),
  FRESH_SIGN_IN_MINUTES: z.coerce.number().int().min(1).max(24 * 60).default(10),
  ENABLEMENT_CODE_DAYS: z.coerce.number().int().min(1).max(365).default(30),
  INACTIVITY_MONTHS: z.coerce.number().int().min(1).max(120).default(24),
  INACTIVITY_NOTICE_DAYS: z
    .string()
    .regex(/^\s*\d{1,3}(\s*,\s*\d{1,3})*\s*$/, 'must be a comma-separated list of days, e.g. 90,30,10,1')
    .refine((v) => v.split(',').some((d) => Number(d) > 0), 'must name at least one day before dormancy')
    .default('90,30,10,1'),
  INACTIVITY_DAILY_LIMIT: z.coerce.number().int().min(1).default(1000),
  JOBS_SCHEDULE: z
    .string()
    .refine((v) => v === 'off' || isCronPattern(v), "must be a cron expression (e.g. '0 3 * * *') or off")
    .default('0 3 * * *'),
  HELPDESK_PHONE: z.string().min(3).default('080 926 7603'),
  SELF_REGISTRATION: booleanFlag.default(true),
  HELPDESK_URL: z.string().min(3).default('https://www.istruzione.it/urp/'),
  ORGANISATION_NAME: z.string().min(3).default('Ministero dell\'Istruzione e del Merito'),
  ORGANISATION_URL: z.url().default('https://www.mim.gov.it/'),
  PRIVACY_CONTACT_EMAIL: z.email().default('rpd@istruzione.it'),
  ACCESSIBILITY_FEEDBACK_URL: z.url().optional(),
});

export type AccountType = 'standard' | 'mi';

/**
 * Which reverse proxies may tell us the client's address: none (the socket's peer is the
 * client), the last `hops` proxies in front of us, or proxies at these addresses/CIDRs.
 */
export type ProxyTrust =
  | { readonly kind: 'none' }
  | { readonly kind: 'hops'; readonly hops: number }
  | { readonly kind: 'addresses'; readonly addresses: readonly string[] };

const NO_PROXY: ProxyTrust = Object.freeze({ kind: 'none' });

function parseProxyTrust(value: string, ctx: z.RefinementCtx): ProxyTrust {
  const v = value.trim().toLowerCase();
  if (['false', 'no', '0'].includes(v)) return NO_PROXY;
  // 'true' predates hop counts: it meant one proxy in front of us
  if (['true', 'yes'].includes(v)) return Object.freeze({ kind: 'hops', hops: 1 });
  if (/^\d{1,2}$/.test(v)) return Object.freeze({ kind: 'hops', hops: Number(v) });
  const addresses = v.split(',').map((a) => a.trim()).filter(Boolean);
  const bad = addresses.filter((a) => !isAddressOrCidr(a));
  if (addresses.length === 0 || bad.length) {
    ctx.addIssue({
      code: 'custom',
      message: `must be false, a number of proxy hops (e.g. 1), or a comma-separated list of proxy addresses or CIDRs (e.g. 10.0.0.0/8,::1)${bad.length ? `; not an address: ${bad.join(', ')}` : ''}`,
    });
    return z.NEVER;
  }
  return Object.freeze({ kind: 'addresses', addresses: Object.freeze(addresses) });
}

function isAddressOrCidr(entry: string): boolean {
  const [address, prefix, ...rest] = entry.split('/');
  const family = isIP(address ?? '');
  if (!family || rest.length) return false;
  if (prefix === undefined) return true;
  const bits = Number(prefix);
  return /^\d{1,3}$/.test(prefix) && bits <= (family === 4 ? 32 : 128);
}

/** A BlockList holding the trusted proxies (empty unless trust is by address). */
export function trustedProxyList(trust: ProxyTrust): BlockList {
  const list = new BlockList();
  if (trust.kind !== 'addresses') return list;
  for (const entry of trust.addresses) {
    const [address, prefix] = entry.split('/') as [string, string | undefined];
    const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(prefix), type);
  }
  return list;
}

function isCronPattern(pattern: string): boolean {
  try {
    new Cron(pattern, { paused: true }).stop();
    return true;
  } catch {
    return false;
  }
}

/** 32 bytes from base64, base64url or hex; null when the value is not exactly that. */
export function decodeKey(value: string): Buffer | null {
  const v = value.trim();
  const bytes = /^[0-9a-f]{64}$/i.test(v) ? Buffer.from(v, 'hex') : /^[\w+/=-]+$/.test(v) ? Buffer.from(v, 'base64') : null;
  return bytes && bytes.length === 32 ? bytes : null;
}

export interface Config {
  readonly env: 'development' | 'production' | 'test';
  readonly host: string;
  readonly port: number;
  /** Public URL of the provider; defaults to http://localhost:PORT. */
  readonly issuer: string;
  readonly databaseUrl?: string;
  /** Redis for the provider's short-lived entries and rate limits; absent: the in-process store */
  readonly redis?: RedisTarget;
  readonly smtpUrl?: string;
  readonly mailFrom: string;
  /** Absolute path where the embedded defaults keep their files (PGlite, outbox). */
  readonly dataDir: string;
  readonly clientsFile: string;
  readonly proxy: ProxyTrust;
  /** Encrypts signing, cookie and CSRF keys at rest; absent: generated into DATA_DIR (embedded, development). */
  readonly keysEncryptionKey?: Buffer;
  readonly logLevel: string;
  /** Create the demo accounts at start (default: only on the embedded database, never in production). */
  readonly demoSeed: boolean;
  readonly helpdesk: { readonly phone: string; readonly url: string };
  /** who runs the service, as the footer and the legal pages name it */
  readonly organisation: { readonly name: string; readonly url: string; readonly privacyEmail: string; readonly accessibilityFeedbackUrl: string };
  /** a sensitive change in the Area riservata needs a sign-in at most this old, else a new one */
  readonly freshSignInMinutes: number;
  /** how long a temporary personal code of an enablement request lasts */
  readonly enablementCodeDays: number;
  /** days before expiry at which a reminder goes out */
  readonly passwordReminderDays: readonly number[];
  /** argon2id operations at once (admission control); default from the machine's cores */
  readonly passwordWorkConcurrency?: number;
  /** bearer token for GET /metrics; without one /metrics is open outside production and absent in production */
  readonly metricsToken?: string;
  /** sign-ins one address may start in a minute (each leaves an Interaction for 30 minutes) */
  readonly signInStartsPerMinute: number;
  /** most sign-ins under way the in-process store holds (no REDIS_URL); Redis is bounded by its maxmemory */
  readonly memoryStoreMaxInteractions: number;
  /** months of audit entries kept; older months are dropped whole */
  readonly auditRetentionMonths: number;
  /** AgID Regolamento art. 20: months without a sign-in before dormancy, notices before it, most dormancies in one day */
  readonly inactivity: { readonly months: number; readonly noticeDays: readonly number[]; readonly dailyLimit: number };
  /** cron expression (Europe/Rome) of the scheduled jobs in the provider process; 'off' for none (run `npm run jobs -- --once` from cron instead) */
  readonly jobsSchedule: string;
  /** Registrati: the link on the login page and the /registrazione routes (404 when false) */
  readonly selfRegistration: boolean;
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
  if (e.REDIS_URL?.includes(',') && !e.REDIS_CLUSTER) {
    throw new ConfigError(['REDIS_URL names several servers: set REDIS_CLUSTER=true if they are the nodes of a Redis Cluster, or give one URL']);
  }
  if (e.REDIS_CLUSTER && !e.REDIS_URL) throw new ConfigError(['REDIS_CLUSTER=true needs REDIS_URL: one or more nodes of the cluster']);
  const rootDir = projectRoot();
  const issuer = (e.ISSUER ?? `http://localhost:${e.PORT}`).replace(/\/+$/, '');
  const issuerUrl = new URL(issuer);
  if (e.NODE_ENV === 'production' && issuerUrl.protocol !== 'https:' && !['localhost', '127.0.0.1', '[::1]'].includes(issuerUrl.hostname)) {
    // over plain http cookies are not Secure and HSTS is not sent: only a local trial may do without
    throw new ConfigError([`ISSUER must be an https URL in production (plain http only for localhost), not ${issuer}`]);
  }
  return Object.freeze({
    env: e.NODE_ENV,
    host: e.HOST,
    port: e.PORT,
    issuer,
    databaseUrl: e.DATABASE_URL,
    redis: e.REDIS_URL ? { urls: Object.freeze(e.REDIS_URL.split(',').map((url) => url.trim())), cluster: e.REDIS_CLUSTER } : undefined,
    smtpUrl: e.SMTP_URL,
    mailFrom: e.MAIL_FROM,
    dataDir: resolve(rootDir, e.DATA_DIR),
    clientsFile: resolve(rootDir, e.CLIENTS_FILE),
    proxy: e.TRUST_PROXY ?? NO_PROXY,
    keysEncryptionKey: e.KEYS_ENCRYPTION_KEY ? decodeKey(e.KEYS_ENCRYPTION_KEY)! : undefined,
    logLevel: e.LOG_LEVEL,
    demoSeed: e.DEMO_SEED ?? (!e.DATABASE_URL && e.NODE_ENV !== 'production'),
    helpdesk: Object.freeze({ phone: e.HELPDESK_PHONE, url: e.HELPDESK_URL }),
    organisation: Object.freeze({
      name: e.ORGANISATION_NAME,
      url: e.ORGANISATION_URL,
      privacyEmail: e.PRIVACY_CONTACT_EMAIL,
      accessibilityFeedbackUrl: e.ACCESSIBILITY_FEEDBACK_URL ?? e.HELPDESK_URL,
    }),
    passwordReminderDays: Object.freeze(dayList(e.PASSWORD_REMINDER_DAYS)),
    passwordWorkConcurrency: e.PASSWORD_WORK_CONCURRENCY,
    metricsToken: e.METRICS_TOKEN,
    signInStartsPerMinute: e.SIGN_IN_STARTS_PER_MINUTE,
    memoryStoreMaxInteractions: e.MEMORY_STORE_MAX_INTERACTIONS,
    auditRetentionMonths: e.AUDIT_RETENTION_MONTHS,
    freshSignInMinutes: e.FRESH_SIGN_IN_MINUTES,
    enablementCodeDays: e.ENABLEMENT_CODE_DAYS,
    inactivity: Object.freeze({
      months: e.INACTIVITY_MONTHS,
      noticeDays: Object.freeze(dayList(e.INACTIVITY_NOTICE_DAYS)),
      dailyLimit: e.INACTIVITY_DAILY_LIMIT,
    }),
    jobsSchedule: e.JOBS_SCHEDULE,
    selfRegistration: e.SELF_REGISTRATION,
    rootDir,
  });
}

/** '14, 7,2' → [14, 7, 2]; zero days are dropped */
function dayList(value: string): number[] {
  return value.split(',').map((d) => Number(d.trim())).filter((d) => d > 0);
}

export function readJsonFile(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8'));
}
