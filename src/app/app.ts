import 'reflect-metadata';
import { DestinationStream } from 'pino';
import { DataSource } from 'typeorm';
import { bothParts } from '../accounts/account-part';
import { hasAccounts, seedDemo } from '../accounts/demo-seed';
import { createTokenVerifiers } from '../auth/jwt';
import { createMembershipReader } from '../auth/membership.query';
import { unauthenticatedPlugin } from '../auth/unauthenticated.plugin';
import { IdentityLoader } from '../auth/viewer';
import { metricsPlugin } from '../graphql/metrics.plugin';
import { Config, InternalConfig } from '../config';
import { credentialsApi, INTERNAL_PREFIX } from '../credentials/credentials.api';
import { Listener, ListenerOptions, sendJson, startListener } from '../listener';
import { loadKeyring } from '../crypto/keyring';
import { createLogger, Logger } from '../logger';
import { AiTask } from '../providers/ai-task.enum';
import { ProviderSettings } from '../providers/connection-tester';
import { checkMasterKeysReady, verifyMasterKeys } from '../provider-keys/master-key-rotation';
import { createTestRateLimit, TestRateLimit } from '../provider-keys/test-rate-limit';
import { ResolvedCredential } from '../routing/route.service';
import { RunningServer, startServer } from '../server';
import { DEFAULT_WEBHOOK_TIMING, WebhookDispatcher, WebhookTiming } from '../webhooks/webhook-dispatcher';
import { ExpiryReminders } from '../monitor/expiry-reminders';
import { KeyMonitor, monitorTiming } from '../monitor/key-monitor';
import { openAppDatabase } from './database';
import { Metrics, MetricsOptions } from './metrics';
import { buildAppSchema } from './schema';
import { AppContext, createServices, Wiring } from './services';

// The composition root: the whole service, assembled from a validated configuration. main.ts runs it
// as a process; the end-to-end tests run it in theirs, on a real port and a real database. Arrows run
// one way: this folder imports the capabilities, they import the kernel (graphql/, db/, crypto/), and
// nothing imports this folder but the entry points (main.ts, cli/, ormconfig.ts).

export interface App {
  url: string;
  /** Where GET /metrics is served (METRICS_PORT's listener, else the internal one); undefined: nowhere. */
  metricsUrl: string | undefined;
  /** The internal credential API (INTERNAL_PORT); undefined when it is off. */
  internalUrl: string | undefined;
  /**
   * The integration point for the platform's pipelines in this process (never exposed over GraphQL):
   * the provider, model and plaintext credential to use for one AI task of an account. Pipelines in
   * other processes call the internal credential API instead.
   */
  resolveCredential(accountId: string, task: AiTask): Promise<ResolvedCredential>;
  /** Writes the key usage counted so far (it is written every few seconds, and on close, anyway). */
  flushUsage(): Promise<void>;
  dataSource: DataSource;
  logger: Logger;
  /** Drains in-flight requests on both listeners, writes pending usage, then closes the database pool. */
  close(): Promise<void>;
}

export interface AppOverrides {
  logDestination?: DestinationStream;
  /** Tests only: DNS for outbound connection tests. */
  lookup?: ProviderSettings['lookup'];
  /** Tests only: the clock of cooldowns and usage days. */
  now?: () => Date;
  /** Tests only: how often counted key usage is written (default 5 s). */
  usageFlushMs?: number;
  /** Tests only: the webhook dispatcher's delays and timeouts, in place of the contract's. */
  webhookTiming?: Partial<WebhookTiming>;
  /** The key monitor's lag for byok_monitor_lag_seconds (seconds, read per scrape); default: none. */
  monitorLagSeconds?: MetricsOptions['monitorLagSeconds'];
}

/** The internal credential API's listener: TLS from INTERNAL_TLS_*, mutual with INTERNAL_TLS_CA. */
function startInternalListener(
  config: Config,
  internal: InternalConfig,
  logger: Logger,
  handle: ListenerOptions['handle'],
) {
  const { tls } = internal;
  return startListener({
    host: internal.host,
    port: internal.port,
    http: config.http,
    logger,
    // A client without a certificate from INTERNAL_TLS_CA fails the handshake: it never reaches a handler.
    tls: tls && {
      cert: tls.cert,
      key: tls.key,
      ...(tls.ca ? { ca: tls.ca, requestCert: true, rejectUnauthorized: true } : {}),
    },
    handle,
    // handle answers everything itself; this is the listener's last resort.
    fail: (_error, _req, res) =>
      sendJson(res, 500, { error: { code: 'INTERNAL', message: 'Internal error.' } }),
  });
}

export async function startApp(config: Config, overrides: AppOverrides = {}): Promise<App> {
  const logger = createLogger(config.logLevel, overrides.logDestination);
  const verifiers = createTokenVerifiers(config);
  const keyring = loadKeyring({
    spec: config.masterKeys,
    production: config.production,
    dataDir: config.dataDir,
    warn: (message) => logger.warn(message),
  });
  const dataSource = await openAppDatabase(config.database);
  const now = overrides.now ?? (() => new Date());
  const listeners: { close(): Promise<void> }[] = [];
  let wiring: Wiring;
  let server: RunningServer;
  let internal: Listener | undefined;
  let dispatcher: WebhookDispatcher | undefined;
  let testRateLimit: TestRateLimit | undefined;
  let metricsListener: Listener | undefined;
  let monitor: KeyMonitor | undefined;
  let reminders: ExpiryReminders | undefined;
  try {
    testRateLimit = await createTestRateLimit({
      perMinute: config.testRateLimitPerMinute,
      dataSource,
      redis: config.redis,
      logger,
    });
    logger.info({ store: testRateLimit.store }, 'connection-test rate limit store');
    wiring = createServices(config, dataSource, keyring, logger, {
      lookup: overrides.lookup,
      now,
      usageFlushMs: overrides.usageFlushMs ?? 5_000,
      testLimiter: testRateLimit.limiter,
    });
    const metrics = new Metrics({
      dataSource,
      outbox: wiring.outbox,
      // Read per scrape from the database, so every replica reports the same lag.
      monitorLagSeconds:
        overrides.monitorLagSeconds ?? (config.monitor.enabled ? () => monitor?.lagSeconds() : undefined),
    });
    wiring.services.providerKeys.observe({
      tested: (health) => metrics.connectionTested(health),
      refused: (reason) => metrics.connectionTestRefused(reason),
    });
    await verifyMasterKeys(dataSource, wiring.store, keyring);
    if (config.database.type === 'sqlite' && !(await hasAccounts(dataSource))) {
      await seedDemo(dataSource);
      logger.info('seeded the demo accounts into the empty embedded database');
    }
    const { store, settingsStore, services, reports } = wiring;
    // auth reads the membership and, in the same statement, the account's keys and routing settings.
    const readMembership = createMembershipReader(
      dataSource,
      bothParts(store.accountPart, settingsStore.part),
    );
    server = await startServer({
      host: config.host,
      port: config.port,
      corsOrigins: config.corsOrigins,
      production: config.production,
      limits: config.graphql,
      settingsPage: config.settingsPage,
      http: config.http,
      schema: await buildAppSchema(),
      context: (req): AppContext => ({
        auth: new IdentityLoader(req.headers.authorization, verifiers.user, readMembership),
        services,
        log: logger,
      }),
      plugins: [
        unauthenticatedPlugin(),
        metricsPlugin((operation, outcome, seconds) => metrics.graphqlOperation(operation, outcome, seconds)),
      ],
      logger,
      readiness: () => checkMasterKeysReady(store, keyring),
    });
    listeners.push(server);
    if (config.internal) {
      const api = credentialsApi({
        verifyService: verifiers.service,
        routes: services.routes,
        reports,
        logger,
        maxBodyBytes: INTERNAL_MAX_BODY_BYTES,
        observe: (route, outcome) => metrics.credentialRequest(route, outcome),
      });
      // /metrics rides on the internal listener (its TLS included) unless METRICS_PORT gives it its own.
      const handle: ListenerOptions['handle'] = config.metrics
        ? api
        : (req, res) =>
            Metrics.isScrape(req) ? metrics.serve(req, res).then(() => undefined) : api(req, res);
      internal = await startInternalListener(config, config.internal, logger, handle);
      listeners.push(internal);
      logger.info({ url: `${internal.url}${INTERNAL_PREFIX}` }, 'internal credential API listening');
    }
    if (config.metrics) {
      metricsListener = await startListener({
        host: config.metrics.host,
        port: config.metrics.port,
        http: config.http,
        logger,
        handle: async (req, res) => {
          if (!(await metrics.serve(req, res)))
            sendJson(res, 404, {
              error: { code: 'NOT_FOUND', message: 'Only GET /metrics is served here.' },
            });
        },
        fail: (_error, _req, res) =>
          sendJson(res, 500, { error: { code: 'INTERNAL', message: 'Internal error.' } }),
      });
      listeners.push(metricsListener);
      logger.info({ url: `${metricsListener.url}/metrics` }, 'metrics listening');
    }
    services.usage.start();
    if (wiring.outbox && config.webhook) {
      const timing = { ...DEFAULT_WEBHOOK_TIMING, ...overrides.webhookTiming };
      dispatcher = new WebhookDispatcher(wiring.outbox, config.webhook, logger, timing);
      dispatcher.start();
    }
    const monitorTimes = monitorTiming(config.monitor, config.providers.timeoutMs);
    if (config.monitor.enabled) {
      monitor = new KeyMonitor({ store, tester: wiring.tester, logger, now, timing: monitorTimes });
      monitor.start();
      logger.info(
        {
          intervalMs: monitorTimes.intervalMs,
          concurrency: monitorTimes.concurrency,
          claimant: monitor.claimant,
        },
        'key monitor started',
      );
    }
    // Reminders are webhooks only: without WEBHOOK_URL there is nobody to remind.
    if (wiring.outbox) {
      reminders = new ExpiryReminders({ store, logger, now, pollMs: monitorTimes.pollMs });
      reminders.start();
    }
  } catch (error) {
    await Promise.all(listeners.map((listener) => listener.close()));
    await testRateLimit?.close();
    await dataSource.destroy();
    throw error;
  }
  return {
    url: server.url,
    internalUrl: internal?.url,
    metricsUrl: metricsListener?.url ?? internal?.url,
    resolveCredential: (accountId, task) => wiring.services.routes.resolveCredential(accountId, task),
    flushUsage: () => wiring.services.usage.flush(),
    dataSource,
    logger,
    async close() {
      // Both listeners drain together; the usage counted by their last requests is written after them.
      await Promise.all(listeners.map((listener) => listener.close()));
      await wiring.services.usage.close();
      // Tests under way finish and are recorded; keys claimed but not yet tested are given back.
      await monitor?.stop();
      await reminders?.stop();
      // After the last request, before the pool closes: attempts under way finish, nothing more is claimed.
      await dispatcher?.stop();
      await wiring.tester.close();
      await testRateLimit?.close();
      await dataSource.destroy();
    },
  };
}

/** Resolve and report bodies are a few hundred bytes. */
const INTERNAL_MAX_BODY_BYTES = 16 * 1024;
