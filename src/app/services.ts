import { DataSource } from 'typeorm';
import { RateLimiterAbstract } from 'rate-limiter-flexible';
import { AuthContext } from '../auth/viewer';
import { Config } from '../config';
import { Keyring } from '../crypto/keyring';
import { Logger } from '../logger';
import { ConnectionTester, ProviderSettings } from '../providers/connection-tester';
import { KeyReports } from '../provider-keys/key-reports';
import { KeyUsage } from '../provider-keys/key-usage';
import { ProviderKeyService } from '../provider-keys/provider-key.service';
import { AccountKeys, ProviderKeyStore } from '../provider-keys/provider-key.store';
import { AiSettingsService } from '../routing/ai-settings.service';
import { AccountSettings, AiSettingsStore } from '../routing/ai-settings.store';
import { RouteService } from '../routing/route.service';
import { bothParts, createAccountReader } from '../accounts/account-part';
import { nextCheckAfter } from '../monitor/key-monitor';
import { createRouteGuard } from '../routing/route-guard';
import { NO_ROUTE_GUARD, NO_WEBHOOKS, type RouteGuard } from '../webhooks/webhook-events';
import { WebhookOutbox } from '../webhooks/webhook-outbox.store';

// The services, wired once at start-up and shared by every request. Each capability names the few it
// calls in its own context type; this is the whole they all fit.

export interface Services {
  providerKeys: ProviderKeyService;
  routes: RouteService;
  aiSettings: AiSettingsService;
  usage: KeyUsage;
}

/** What a request reads of its account with the membership: the keys and the routing settings. */
export type RequestAccount = AccountKeys & AccountSettings;

/** A request's context: the identity (auth) and the services. */
export interface AppContext extends AuthContext<RequestAccount> {
  services: Services;
}

export interface Wiring {
  store: ProviderKeyStore;
  settingsStore: AiSettingsStore;
  tester: ConnectionTester;
  reports: KeyReports;
  services: Services;
  /** The webhook outbox; undefined when WEBHOOK_URL is not set. */
  outbox: WebhookOutbox | undefined;
}

export interface WiringOptions {
  /** Tests only: DNS for outbound connection tests. */
  lookup?: ProviderSettings['lookup'];
  /** The clock of cooldowns and usage days; tests move it. */
  now: () => Date;
  /** How often counted key usage is written (the contract: at least every 5 s). */
  usageFlushMs: number;
  /** TEST_RATE_LIMIT_PER_MINUTE, counted where every replica counts (provider-keys/test-rate-limit.ts). */
  testLimiter: RateLimiterAbstract;
}

export function createServices(
  config: Config,
  dataSource: DataSource,
  keyring: Keyring,
  logger: Logger,
  options: WiringOptions,
): Wiring {
  const { now } = options;
  const outbox = config.webhook ? new WebhookOutbox(dataSource) : undefined;
  const publish = outbox?.publish ?? NO_WEBHOOKS;
  // ai_route.unavailable: judged by routing's rule around each change that can take a route away
  // (the stores below are built after it, and read when a change runs).
  const guardRoute: RouteGuard = outbox
    ? createRouteGuard({
        keysOf: (manager, accountId) => store.routeKeys(manager, accountId),
        settingsOf: (manager, accountId) => settingsStore.read(manager, accountId),
        builtIn: config.builtin,
        publish,
        now,
      })
    : NO_ROUTE_GUARD;
  const store: ProviderKeyStore = new ProviderKeyStore(dataSource, keyring, publish, guardRoute);
  const tester = new ConnectionTester({ ...config.providers, lookup: options.lookup });
  const usage = new KeyUsage({ store, now, logger, intervalMs: options.usageFlushMs });
  const settingsStore: AiSettingsStore = new AiSettingsStore(dataSource, guardRoute);
  const routes = new RouteService({
    // A resolve reads the plan, the keys and the settings in one statement.
    readAccount: createAccountReader(dataSource, bothParts(store.routingPart, settingsStore.part)),
    builtIn: config.builtin,
    recordUse: (key) => usage.resolved(key),
    now,
  });
  return {
    store,
    settingsStore,
    tester,
    reports: new KeyReports({ store, usage, now }),
    outbox,
    services: {
      usage,
      routes,
      aiSettings: new AiSettingsService({ store: settingsStore, routes }),
      providerKeys: new ProviderKeyService({
        store,
        tester,
        testLimiter: options.testLimiter,
        outboundAllowlist: config.providers.outboundAllowlist,
        logger,
        now,
        // Added or rotated: first tested one interval on (null: the monitor is off, nothing to show).
        nextCheckAt: () => (config.monitor.enabled ? nextCheckAfter(now(), config.monitor.intervalMs) : null),
      }),
    },
  };
}
