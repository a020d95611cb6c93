import { once } from 'node:events';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import type Koa from 'koa';
import type Provider from 'oidc-provider';
import { createAccountStatusService } from './accounts/account-status.js';
import { createPasswordAuthenticator } from './accounts/authentication.js';
import { createLoginThrottle, type ThrottleLimits } from './accounts/login-throttle.js';
import { createPasswordHasher, type Argon2Parameters } from './accounts/password-hashing.js';
import { SPID_LEVEL_1_POLICY, type PasswordPolicy } from './accounts/password-policy.js';
import { createPasswordService, type PasswordService } from './accounts/passwords.js';
import { createSecondFactor } from './accounts/second-factor.js';
import { createAccountProvisioning } from './accounts/provisioning.js';
import { createAccountRepository } from './accounts/repository.js';
import { createAccountAccessIndex, createAdapterFactory, createMemoryStore } from './adapters/index.js';
import { createRedisClient, type RedisClient, type RedisTarget } from './adapters/redis-client.js';
import { createApp } from './app.js';
import { createAuditLog } from './audit/audit-log.js';
import { auditChainHeads } from './audit/verify.js';
import type { Config } from './config.js';
import { createDatabase, pgliteDirectory, type Db } from './db/index.js';
import { migrateToLatest } from './db/migrate.js';
import { createPageRenderer } from './http/views.js';
import { createMailer, type Mailer } from './mail/transport.js';
import { createOutgoingMailQueue, type OutgoingMailQueue } from './mail/outgoing.js';
import { createMailRenderer } from './mail/templates.js';
import { createRecoveryService, type RecoveryService } from './recovery/service.js';
import { createRecoveryThrottle, type RecoveryLimits } from './recovery/throttle.js';
import { createRegistrationService, createRegistrationThrottle, withSelfRegistrationFlag, type RegistrationLimits, type RegistrationService } from './registration/index.js';
import { GATES } from './interactions/gates/index.js';
import { createAuditPartitionJob } from './jobs/audit-partitions.js';
import { createInactivityJob } from './jobs/inactivity.js';
import { createPasswordReminders } from './jobs/password-reminders.js';
import type { Job } from './jobs/scheduler.js';
import type { Logger } from './logger.js';
import { createAccountAccessRevocation, type AccessRevocation } from './provider/account-revocation.js';
import { loadServiceDefinitions, type ServiceDefinition } from './services/catalogue.js';
import { createServiceAdministration, type ServiceAdministration } from './services/administration.js';
import { createPasswordWorkQueue, DEFAULT_ADMISSION, type AdmissionLimits, type PasswordWorkQueue } from './http/admission.js';
import { createMetrics } from './http/metrics.js';
import { limitSignInStarts } from './http/sign-in-starts.js';
import { SESSION_COOKIE } from './provider/configuration.js';
import { createProvider } from './provider/index.js';
import { createRegistration } from './provider/registration.js';
import { createCatalogueCache, type CatalogueCache } from './services/catalogue-cache.js';
import { notificationsOf } from './db/notifications.js';
import { createInitialAccessTokens } from './services/initial-access-tokens.js';
import { createRegistrationAccessTokenRepository } from './services/registration-access-token-repository.js';
import { createSignedInReader } from './provider/sso-session.js';
import { createOfficerConsole, type OfficerConsole } from './officer/service.js';
import { createAdministrators, type Administrators } from './admin/administrators.js';
import { createOwnPasswordChange } from './area/own-password.js';
import { createContactDataChange } from './area/contact-data.js';
import { createSessionLedger } from './provider/session-ledger.js';
import { createEnablementRepository } from './enablement/repository.js';
import { createEnablementAdministration } from './enablement/administration.js';
import { createEnablementService, ENABLEMENT_CODE_LIMITS, PERSONAL_CODE_LIMITS } from './enablement/service.js';
import { serviceDirectory } from './services/consoles.js';
import { createSignInNotice, createSignInNoticeSetting } from './area/sign-in-notice.js';
import { createEmailChange, EMAIL_CHANGE_LIMITS } from './area/email-change.js';
import { createActivityReader } from './area/activity.js';
import { createAuditViewer } from './admin/audit-viewer.js';
import { createStaffImport } from './staff/import.js';
import { loadKeysEncryptionKey } from './provider/key-encryption.js';
import { createKeyAdministration, loadOrCreateKeys } from './provider/keys.js';
import type { CommandDeps } from './admin/command.js';

export class StartupError extends Error {}

export interface ServerOptions {
  config: Config;
  logger: Logger;
  /** tests: a throwaway database instead of DATA_DIR */
  pgliteDir?: string;
  /** tests: the throwaway database starts from this migrated data directory */
  pgliteTemplate?: Blob;
  services?: ServiceDefinition[];
  argon2?: Argon2Parameters;
  throttleLimits?: ThrottleLimits;
  /** Password dimenticata? / Username dimenticato? requests per address and per username or CF */
  recoveryLimits?: RecoveryLimits;
  /** Registrati: attempts and codes per address, codes per e-mail address */
  registrationLimits?: RegistrationLimits;
  /** default: SPID level 1 */
  passwordPolicy?: PasswordPolicy;
  /** the argon2id queue's bounds (default: from the machine's cores) */
  admission?: AdmissionLimits;
  /** namespace of every Redis key (default 'iam:'); tests isolate themselves with their own */
  redisKeyPrefix?: string;
  /** how long a client may take to send its headers and its whole request */
  slowClientTimeouts?: Partial<SlowClientTimeouts>;
}

export interface SlowClientTimeouts {
  headersMs: number;
  requestMs: number;
  /** how often Node looks for connections past those bounds (its default is 30 s) */
  checkEveryMs: number;
}

const SLOW_CLIENT_TIMEOUTS: SlowClientTimeouts = { headersMs: 20_000, requestMs: 30_000, checkEveryMs: 2_000 };

export interface Server {
  app: Koa;
  provider: Provider;
  db: Db;
  redis?: RedisClient;
  services: ServiceDefinition[];
  deps: {
    /** the catalogue of services: register, change, rotate secrets, disable, remove */
    serviceAdministration: ServiceAdministration;
    accounts: ReturnType<typeof createAccountRepository>;
    provisioning: ReturnType<typeof createAccountProvisioning>;
    mailer: Mailer;
    passwords: PasswordService;
    recovery: RecoveryService;
    registration: RegistrationService;
    /** messages sent after the response (recovery); tests drain it before reading the outbox */
    outgoingMail: OutgoingMailQueue;
    /** scheduled work: main.ts runs it on JOBS_SCHEDULE, `npm run jobs -- --once` on demand */
    jobs: Job[];
    /** the admission queue of argon2id work */
    passwordWork: PasswordWorkQueue;
    /** ends every session, grant and token of an account at the provider */
    revokeAccess: (accountId: string) => Promise<AccessRevocation>;
    accountStatus: ReturnType<typeof createAccountStatusService<AccessRevocation>>;
    officerConsole: OfficerConsole;
    administrators: Administrators;
    /** what `npm run admin` acts on, as the CLI builds it */
    commands: CommandDeps;
  };
  listen(port?: number, host?: string): Promise<string>;
  /** graceful: in-flight requests get `graceMs` (default 10 s) to finish */
  close(graceMs?: number): Promise<void>;
}

/**
 * config → key-encryption key → the services' catalogue → Redis → database + migrations →
 * keys → provider → app. What fails fast is checked first: a mistake in clients.json or an
 * unreachable Redis is told at once, not after the embedded database's first start.
 */
export async function createServer(options: ServerOptions): Promise<Server> {
  const { config, logger } = options;
  const kek = await loadKeysEncryptionKey(config);
  const catalogue = options.services ?? loadServiceDefinitions(config.clientsFile, { production: config.env === 'production' });
  const redis: RedisClient | undefined = config.redis ? await connectRedis(config.redis) : undefined;
  let db: Db;
  try {
    db = await connectDatabase(config, logger, options.pgliteDir, options.pgliteTemplate);
  } catch (error) {
    redis?.disconnect();
    throw error;
  }
  let passwordWork: PasswordWorkQueue | undefined;
  let catalogueCache: CatalogueCache | undefined;
  try {
    const keys = await loadOrCreateKeys(db, kek);
    const accounts = createAccountRepository(db);
    const audit = createAuditLog(db);
    let heardBefore = false;
    catalogueCache = await createCatalogueCache(notificationsOf(db), (hearing) => {
      if (!hearing) logger.warn('catalogue changes not heard (the listening connection to PostgreSQL is lost): every client lookup reads the table until it is back');
      else if (heardBefore) logger.info('catalogue changes heard again');
      heardBefore = true;
    });
    const serviceRules = { production: config.env === 'production' };
    const serviceAdministration = createServiceAdministration({ db, audit, rules: serviceRules });
    const initialAccessTokens = createInitialAccessTokens({ db, audit });
    const keyAdministration = createKeyAdministration({ db, audit, kek });
    const applied = await serviceAdministration.applyFile(catalogue);
    if (applied.created.length || applied.updated.length) logger.info(applied, 'clients.json applied to the catalogue of services');
    const directory = serviceDirectory(serviceAdministration.repository.labels);
    passwordWork = createPasswordWorkQueue(
      options.admission ?? { ...DEFAULT_ADMISSION, ...(config.passwordWorkConcurrency ? { concurrency: config.passwordWorkConcurrency } : {}) },
    );
    const work = passwordWork;
    const hasher = createPasswordHasher(options.argon2, work.run);
    const redisKeyPrefix = options.redisKeyPrefix ?? 'iam:';
    const throttle = createLoginThrottle({ redis, limits: options.throttleLimits, keyPrefix: `${redisKeyPrefix}throttle:` });
    const passwordPolicy = options.passwordPolicy ?? SPID_LEVEL_1_POLICY;
    const passwords = createPasswordService({ db, hasher, audit, policy: passwordPolicy });
    const secondFactor = createSecondFactor({ db, audit, kek: kek.key, redis, keyPrefix: `${redisKeyPrefix}second-factor:` });
    const renderPage = withSelfRegistrationFlag(createPageRenderer(config), config.selfRegistration);
    const mailer = createMailer({ smtpUrl: config.smtpUrl, from: config.mailFrom, outboxDir: join(config.dataDir, 'outbox') });
    // without Redis, this server's own in-process store, holding at most so many sign-ins under way
    const oidcStore = {
      redis,
      keyPrefix: `${redisKeyPrefix}oidc:`,
      memoryStore: redis ? undefined : createMemoryStore({ maxInteractions: config.memoryStoreMaxInteractions }),
    };
    const provider = createProvider({
      config,
      accounts,
      secondFactorStatus: secondFactor.status,
      enablementOf: createEnablementRepository(db).live,
      keys,
      adapter: createAdapterFactory(oidcStore),
      gates: GATES,
      renderPage,
      logger,
      audit,
      catalogue: serviceAdministration.repository,
      catalogueCache,
      registration: createRegistration({
        administration: serviceAdministration,
        initialAccessTokens: initialAccessTokens.repository,
        registrationAccessTokens: createRegistrationAccessTokenRepository(db),
        rules: serviceRules,
        issuer: config.issuer,
      }),
    });
    const metrics = createMetrics(work);
    provider.on('grant.success', (ctx) => metrics.tokenIssued(String(ctx.oidc.params?.grant_type ?? '')));
    const accessIndex = createAccountAccessIndex(oidcStore);
    const revokeAccess = createAccountAccessRevocation({ provider, index: accessIndex, logger });
    const sessionLedger = createSessionLedger({ provider, index: accessIndex, adapter: createAdapterFactory(oidcStore), logger });
    provider.on('authorization.success', (ctx) => {
      const { session, client } = ctx.oidc;
      if (!session || !client) return;
      sessionLedger.recordUse(ctx, session, client.clientId).catch((error: unknown) => logger.warn({ err: error }, 'session use not recorded'));
    });
    const renderMail = createMailRenderer(config);
    const outgoingMail = createOutgoingMailQueue({ mailer, render: renderMail, logger });
    const recovery = createRecoveryService({
      db,
      audit,
      passwords,
      mail: outgoingMail,
      throttle: createRecoveryThrottle({ redis, limits: options.recoveryLimits, keyPrefix: `${redisKeyPrefix}recovery:` }),
      loginThrottle: throttle,
      revokeAccess,
      issuer: config.issuer,
      logger,
    });
    const signInNotice = createSignInNotice({ mail: outgoingMail, issuer: config.issuer, serviceDirectory: directory });
    const authenticator = createPasswordAuthenticator({
      db,
      hasher,
      throttle,
      audit,
      policy: passwordPolicy,
      // the owner of a locked account hears of it (and, at the second rung, gets the unlock link)
      notifyLock: (account, lock) => {
        recovery.sendLockNotice(account, lock).catch((error: unknown) => logger.error({ err: error, accountId: account.id }, 'lock notice not sent'));
      },
      notifySignIn: (account, signIn) => {
        signInNotice(account, signIn).catch((error: unknown) => logger.error({ err: error, accountId: account.id }, 'sign-in notice not sent'));
      },
    });
    const provisioning = createAccountProvisioning({ db, hasher, audit, policy: passwordPolicy });
    const registration = createRegistrationService({
      db,
      audit,
      provisioning,
      policy: passwordPolicy,
      mail: outgoingMail,
      throttle: createRegistrationThrottle({ redis, limits: options.registrationLimits, keyPrefix: `${redisKeyPrefix}registration:` }),
      logger,
    });
    const officerConsole = createOfficerConsole({ db, audit, passwords, loginThrottle: throttle, revokeAccess, mail: outgoingMail, logger });
    const administrators = createAdministrators({ db, audit });
    const enablementAdministration = createEnablementAdministration({ db, audit });
    const enablement = createEnablementService({
      db,
      hasher,
      audit,
      mail: outgoingMail,
      throttle: createRecoveryThrottle({ redis, keyPrefix: `${redisKeyPrefix}enablement:`, limits: ENABLEMENT_CODE_LIMITS }),
      personalCodeThrottle: createRecoveryThrottle({ redis, keyPrefix: `${redisKeyPrefix}personal-code:`, limits: PERSONAL_CODE_LIMITS }),
      codeDays: config.enablementCodeDays,
    });
    const app = createApp({
      config,
      officerConsole,
      area: {
        activity: createActivityReader(db),
        changeOwnPassword: createOwnPasswordChange({ db, passwords, provider, revokeAccess, audit, logger }),
        changeContactData: createContactDataChange({ db, audit }),
        sessionLedger,
        signInNotice: createSignInNoticeSetting({ db, audit }),
        enablement,
        emailChange: createEmailChange({ db, audit, mail: outgoingMail, throttle: createRecoveryThrottle({ redis, keyPrefix: `${redisKeyPrefix}email-change:`, limits: EMAIL_CHANGE_LIMITS }) }),
      },
      admin: { administrators, auditViewer: createAuditViewer(db), staffImport: createStaffImport({ db, audit, policy: passwordPolicy }), enablements: enablementAdministration },
      adminApi: { initialAccessTokens, keys: keyAdministration, rules: serviceRules },
      signedIn: createSignedInReader({ provider, accounts }),
      registration: { service: registration, enabled: config.selfRegistration },
      provider,
      serviceAdministration,
      serviceDirectory: directory,
      accounts,
      authenticator,
      passwords,
      secondFactor,
      enablement,
      recovery,
      renderPage,
      logger,
      audit,
      csrfSecret: keys.csrfKey,
      passwordWork: work,
      metrics,
      signInStarts: limitSignInStarts({ provider, perMinute: config.signInStartsPerMinute, redis, keyPrefix: `${redisKeyPrefix}limits:`, sessionCookie: SESSION_COOKIE }),
      health: async () => ({
        database: await sql`select 1`.execute(db).then(() => true, () => false),
        ...(redis ? { redis: await redis.ping().then((r) => r === 'PONG', () => false) } : {}),
      }),
    });
    app.on('error', (error: Error) => logger.debug({ err: error }, 'koa error'));

    let httpServer: HttpServer | undefined;
    return {
      app,
      provider,
      db,
      redis,
      services: catalogue,
      deps: {
        serviceAdministration,
        accounts,
        provisioning,
        registration,
        mailer,
        passwords,
        recovery,
        outgoingMail,
        jobs: [
          {
            name: 'password-reminders',
            run: createPasswordReminders({ db, mailer, render: renderMail, audit, logger, daysBefore: config.passwordReminderDays }).run,
          },
          {
            name: 'inactivity',
            run: createInactivityJob({ db, mailer, render: renderMail, audit, logger, policy: config.inactivity, revokeAccess }).run,
          },
          // monthly partitions of the audit log ahead, and months beyond the retention dropped
          { name: 'audit-partitions', run: createAuditPartitionJob({ db, retentionMonths: config.auditRetentionMonths }).run },
          // the audit chains' heads in the log, a copy of them outside the database
          { name: 'audit-chain-heads', run: () => auditChainHeads(db) },
          // abandoned registrations (also cleared whenever an attempt starts)
          { name: 'registration-cleanup', run: () => registration.deleteExpired() },
        ],
        passwordWork: work,
        revokeAccess,
        accountStatus: createAccountStatusService({
          db,
          audit,
          revokeAccess,
        }),
        officerConsole,
        administrators,
        commands: { administrators, enablements: enablementAdministration, services: serviceAdministration, keys: keyAdministration, initialAccessTokens },
      },
      async listen(port = config.port, host = config.host) {
        const timeouts = { ...SLOW_CLIENT_TIMEOUTS, ...options.slowClientTimeouts };
        // a client that trickles its headers or body is answered 408 and cut (slow-loris)
        httpServer = createHttpServer(
          { headersTimeout: timeouts.headersMs, requestTimeout: timeouts.requestMs, connectionsCheckingInterval: timeouts.checkEveryMs },
          app.callback(),
        );
        // longer than a load balancer's idle timeout toward us (60 s by default on the common
        // ones), so that it never sends a request on a connection we are closing
        httpServer.keepAliveTimeout = 65_000;
        httpServer.listen(port, host);
        await once(httpServer, 'listening');
        // from here on: the start-up's own work (migrations on PGlite) is not overload
        work.watchEventLoop();
        const address = httpServer.address() as AddressInfo;
        return `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
      },
      /**
       * Stops accepting, lets the requests in flight finish for up to `graceMs`, then cuts
       * what is left; then the stores close.
       */
      async close(graceMs = 10_000) {
        if (httpServer) {
          const closed = new Promise<void>((resolve) => httpServer!.close(() => resolve()));
          httpServer.closeIdleConnections();
          const cut = setTimeout(() => httpServer!.closeAllConnections(), graceMs);
          await closed;
          clearTimeout(cut);
        }
        await outgoingMail.drain();
        await passwordWork!.idle();
        passwordWork!.close();
        redis?.disconnect();
        await catalogueCache!.stop();
        await db.destroy();
      },
    };
  } catch (error) {
    passwordWork?.close();
    redis?.disconnect();
    await catalogueCache?.stop();
    await db.destroy().catch(() => undefined);
    throw error;
  }
}

async function connectDatabase(config: Config, logger: Logger, pgliteDir?: string, pgliteTemplate?: Blob): Promise<Db> {
  const where = config.databaseUrl ? `PostgreSQL at ${safeUrl(config.databaseUrl)} (DATABASE_URL)` : `PGlite in ${pgliteDir ?? pgliteDirectory(config.dataDir)}`;
  let db: Db | undefined;
  try {
    db = await createDatabase({
      databaseUrl: config.databaseUrl,
      pgliteDir: pgliteDir ?? pgliteDirectory(config.dataDir),
      pgliteTemplate,
      onIdleClientError: (error) => logger.warn({ err: error }, 'a PostgreSQL connection was lost; the pool opens a new one when needed'),
    });
    await migrateToLatest(db);
    return db;
  } catch (error) {
    await db?.destroy().catch(() => undefined);
    const reason = (error as { code?: string }).code ?? (error as Error).message;
    throw new StartupError(`cannot open the database: ${where}: ${reason}. Check that it is running and that the URL, user and password are right.`);
  }
}

async function connectRedis(target: RedisTarget): Promise<RedisClient> {
  const redis = createRedisClient(target);
  let lastError: Error | undefined;
  // after start-up, connection errors surface on the commands that need Redis
  redis.on('error', (error: Error) => (lastError = error));
  try {
    await redis.connect();
    await redis.ping();
    return redis;
  } catch (error) {
    redis.disconnect();
    const reason = (lastError ?? (error as Error)).message.replace(/\.+$/, '');
    const where = target.urls.map(safeUrl).join(', ');
    throw new StartupError(`cannot reach Redis${target.cluster ? ' Cluster' : ''} at ${where} (REDIS_URL): ${reason}. Check that it is running and reachable.`);
  }
}

function safeUrl(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}
