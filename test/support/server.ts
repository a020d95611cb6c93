import type { AdmissionLimits } from '../../src/http/admission.js';
import { freePort } from './ports.js';
import { migratedPgliteTemplate } from './pglite-template.js';
import { randomBytes, randomInt } from 'node:crypto';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import type { ServiceDefinition } from '../../src/services/catalogue.js';
import { createServer, type Server, type SlowClientTimeouts } from '../../src/server.js';
import type { ThrottleLimits } from '../../src/accounts/login-throttle.js';
import type { RecoveryLimits } from '../../src/recovery/throttle.js';
import type { RegistrationLimits } from '../../src/registration/throttle.js';
import { computeCodiceFiscale } from '../../src/accounts/codice-fiscale.js';
import type { NewAccount } from '../../src/accounts/provisioning.js';

export interface TestServer extends Server {
  /** the issuer: where browsers and services reach it */
  url: string;
  /** this instance itself (the same as url unless behind a load balancer) */
  ownUrl: string;
}

export const TEST_KEYS_ENCRYPTION_KEY = Buffer.alloc(32, 'iam-istruzione-test-kek').toString('base64');

/** Cheap argon2 parameters so tests spend their time on behaviour, not hashing. */
export const TEST_ARGON2 = { memoryCost: 1024, timeCost: 1, parallelism: 1 };

/**
 * The whole app on 127.0.0.1:<random port>, on a throwaway PGlite and the
 * in-process store, or on PostgreSQL and Redis when DATABASE_URL / REDIS_URL are set.
 */
export async function startTestServer(
  options: {
    services?: ServiceDefinition[];
    throttleLimits?: ThrottleLimits;
    recoveryLimits?: RecoveryLimits;
    registrationLimits?: RegistrationLimits;
    admission?: AdmissionLimits;
    env?: Record<string, string>;
    /** instances of one deployment: the load balancer's URL as issuer, one Redis namespace */
    deployment?: { issuer: string; redisKeyPrefix: string };
    slowClientTimeouts?: Partial<SlowClientTimeouts>;
    /** where log lines go (default: stdout, at LOG_LEVEL or silent) */
    logDestination?: { write(line: string): void };
  } = {},
): Promise<TestServer> {
  const { port, url: ownUrl } = await reservePort();
  const url = options.deployment?.issuer ?? ownUrl;
  const config = loadConfig({
    ...process.env,
    NODE_ENV: 'test',
    PORT: String(port),
    ISSUER: url,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
    DEMO_SEED: 'false',
    // a fixed key-encryption key: tests never write one into the repository's data/
    KEYS_ENCRYPTION_KEY: TEST_KEYS_ENCRYPTION_KEY,
    // every test browser comes from 127.0.0.1: the per-address bound is tested on its own
    SIGN_IN_STARTS_PER_MINUTE: '100000',
    ...options.env,
  });
  const server = await createServer({
    config,
    logger: createLogger(config.logLevel, options.logDestination),
    pgliteDir: 'memory://',
    pgliteTemplate: process.env.DATABASE_URL ? undefined : await migratedPgliteTemplate(),
    services: options.services,
    argon2: TEST_ARGON2,
    throttleLimits: options.throttleLimits,
    recoveryLimits: options.recoveryLimits,
    registrationLimits: options.registrationLimits,
    admission: options.admission,
    slowClientTimeouts: options.slowClientTimeouts,
    redisKeyPrefix: options.deployment?.redisKeyPrefix ?? `iam-test-${randomBytes(4).toString('hex')}:`,
  });
  await server.listen(port, '127.0.0.1');
  return Object.assign(server, { url, ownUrl });
}

async function reservePort(): Promise<{ port: number; url: string }> {
  const port = await freePort();
  return { port, url: `http://127.0.0.1:${port}` };
}

const CONSONANTS = 'BCDFGLMNPRSTVZ';

/**
 * A valid person, unique with high probability even across test files sharing one
 * PostgreSQL database: random surname consonants and birth date feed the CF.
 */
export function testPerson(overrides: Partial<NewAccount> = {}): NewAccount {
  const pick = () => CONSONANTS[randomInt(CONSONANTS.length)]!;
  const unique = randomBytes(6).toString('hex');
  // the first three consonants make the CF's surname part; the two after them only keep
  // usernames (nome.cognome) apart in a database many test files share
  const familyName = overrides.familyName ?? `${pick()}a${pick().toLowerCase()}${pick().toLowerCase()}i${pick().toLowerCase()}o${pick().toLowerCase()}i`;
  const givenName = overrides.givenName ?? 'Anna';
  const birthDate = overrides.birthDate ?? new Date(Date.UTC(1950, 0, 1) + randomInt(18_000) * 86_400_000).toISOString().slice(0, 10);
  const sex = overrides.sex ?? 'F';
  return {
    type: 'standard',
    givenName,
    familyName,
    birthDate,
    birthPlace: 'Roma',
    sex,
    fiscalCode: computeCodiceFiscale({ givenName, familyName, birthDate, sex, placeCode: 'H501' }),
    personalEmail: `anna.${unique}@example.org`,
    password: 'Corretta-Password-1!',
    ...overrides,
  };
}

/** An MI username nobody else has. */
export function testMiUsername(): string {
  return `MI${randomInt(100_000_000, 999_999_999)}`;
}

/** A service definition for tests, on a redirect URI the test controls. */
export function testService(overrides: Partial<ServiceDefinition> & Pick<ServiceDefinition, 'id'>): ServiceDefinition {
  return {
    name: `Servizio ${overrides.id}`,
    clientSecret: `secret-${overrides.id}-0123456789abcdef0123456789`,
    tokenEndpointAuthMethod: 'client_secret_basic',
    redirectUris: [`http://127.0.0.1:9/${overrides.id}/callback`],
    postLogoutRedirectUris: [`http://127.0.0.1:9/${overrides.id}/`],
    firstParty: true,
    enablementRequired: false,
    acceptedAccountTypes: ['standard', 'mi'],
    requiredAcr: null,
    scopes: ['openid', 'profile', 'email', 'phone', 'address', 'offline_access'],
    grantTypes: ['authorization_code', 'refresh_token'],
    ...overrides,
  };
}
