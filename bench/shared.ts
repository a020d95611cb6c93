/**
 * What the bench's processes agree on: the bench client, the bench person, the ready line
 * a child server prints, and a free loopback port.
 */
import { createServer as createNetServer } from 'node:net';
import { pino } from 'pino';
import { computeCodiceFiscale } from '../src/accounts/codice-fiscale.js';
import type { NewAccount } from '../src/accounts/provisioning.js';
import type { ServiceDefinition } from '../src/services/catalogue.js';

export const BENCH_CLIENT_ID = 'bench-client';
export const BENCH_CLIENT_SECRET = 'bench-client-secret-0123456789abcdef0123456789';
/** Never contacted: the driver stops at the redirect and reads the code from its Location. */
export const BENCH_REDIRECT_URI = 'http://127.0.0.1:9/bench/callback';
export const BENCH_PASSWORD = 'Bench-Password-2024!';

/** A confidential first-party service that may use both the code flow and client_credentials. */
export function benchService(): ServiceDefinition {
  return {
    id: BENCH_CLIENT_ID,
    name: 'Servizio di benchmark',
    clientSecret: BENCH_CLIENT_SECRET,
    tokenEndpointAuthMethod: 'client_secret_basic',
    redirectUris: [BENCH_REDIRECT_URI],
    postLogoutRedirectUris: [],
    firstParty: true,
    enablementRequired: false,
    acceptedAccountTypes: ['standard', 'mi'],
    requiredAcr: null,
    scopes: ['openid', 'profile', 'email'],
    grantTypes: ['authorization_code', 'client_credentials'],
  };
}

/**
 * The bench's people: the same names, a birth date (so a codice fiscale) of their own. The
 * forced-change server's people have another family name, so a database shared by both
 * servers (DATABASE_URL) never mixes their accounts.
 */
export function benchPerson(index = 0, familyName = 'Benchmark'): NewAccount {
  const birthDate = new Date(Date.UTC(1980, 4, 20 + index)).toISOString().slice(0, 10);
  const person = { givenName: 'Carla', familyName, birthDate, sex: 'F' as const };
  return {
    type: 'standard',
    ...person,
    birthPlace: 'Roma',
    fiscalCode: computeCodiceFiscale({ ...person, placeCode: 'H501' }),
    personalEmail: `carla.${familyName.toLowerCase()}${index || ''}@example.org`,
    password: BENCH_PASSWORD,
  };
}

/** The one line on stdout by which a child server says it listens; everything else goes to stderr. */
export const READY_PREFIX = 'BENCH_READY ';

export interface ReadyMessage {
  url: string;
  /** what holds accounts and audit (ours only) */
  database?: string;
  /** what holds oidc-provider's artefacts (sessions, codes, tokens) */
  store: string;
  username?: string;
  /** every bench account, one per sign-in browser (ours only) */
  usernames?: string[];
  threadpool: string;
  nodeEnv: string;
  pid: number;
  /** set by the forced-change server (BENCH_FORCED_CHANGE=1): what its accounts' history holds */
  forcedChange?: ForcedChangeSetup;
}

/** The forced-change server's accounts, as the driver and the report need them. */
export interface ForcedChangeSetup {
  /** a password expires this long after it is set (the driver waits that long before reusing an account) */
  passwordLifeSeconds: number;
  /** the policy's historyCount */
  historyCount: number;
  historyMonths: number;
  /** entries set long ago (outside historyMonths) given to every account at start */
  oldHistoryEntries: number;
}

export function announce(message: ReadyMessage): void {
  process.stdout.write(READY_PREFIX + JSON.stringify(message) + '\n');
}

/** Logs to stderr, so stdout carries only the ready line. */
export function stderrLogger(level = process.env.LOG_LEVEL ?? 'warn') {
  return pino({ level, base: { service: 'bench' } }, pino.destination(2));
}

export async function freePort(): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

export function describeThreadpool(): string {
  return process.env.UV_THREADPOOL_SIZE ? `UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE}` : 'UV_THREADPOOL_SIZE unset (libuv default: 4 threads)';
}

/** Ends the process on SIGTERM/SIGINT after `close`, or after 5 s whatever happens. */
export function stopOnSignals(close: () => Promise<void>): void {
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => process.exit(0), 5000).unref();
    close().then(() => process.exit(0), () => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // the parent is gone: nobody will ever signal us
  process.on('disconnect', stop);
}
