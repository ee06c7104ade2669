import { DataSource } from 'typeorm';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { AuthContext } from '../auth/viewer';
import { Config } from '../config';
import { Keyring } from '../crypto/keyring';
import { Logger } from '../logger';
import { ConnectionTester, ProviderSettings } from '../providers/connection-tester';
import { ProviderKeyService } from '../provider-keys/provider-key.service';
import { AccountKeys, ProviderKeyStore } from '../provider-keys/provider-key.store';
import { RouteService } from '../routing/route.service';
import { NO_WEBHOOKS } from '../webhooks/webhook-events';
import { WebhookOutbox } from '../webhooks/webhook-outbox.store';

// The services, wired once at start-up and shared by every request. Each capability names the few it
// calls in its own context type; this is the whole they all fit.

export interface Services {
  providerKeys: ProviderKeyService;
  routes: RouteService;
}

/** A request's context: the identity (auth) and the services. */
export interface AppContext extends AuthContext<AccountKeys> {
  services: Services;
}

export interface Wiring {
  store: ProviderKeyStore;
  tester: ConnectionTester;
  services: Services;
  /** The webhook outbox; undefined when WEBHOOK_URL is not set. */
  outbox: WebhookOutbox | undefined;
}

export function createServices(
  config: Config,
  dataSource: DataSource,
  keyring: Keyring,
  logger: Logger,
  lookup?: ProviderSettings['lookup'],
): Wiring {
  const outbox = config.webhook ? new WebhookOutbox(dataSource) : undefined;
  const store = new ProviderKeyStore(dataSource, keyring, outbox?.publish ?? NO_WEBHOOKS);
  const tester = new ConnectionTester({ ...config.providers, lookup });
  // Per process: with several replicas, each allows this many (see README).
  const testLimiter = new RateLimiterMemory({ points: config.testRateLimitPerMinute, duration: 60 });
  return {
    store,
    tester,
    outbox,
    services: {
      routes: new RouteService({ store, builtIn: config.builtin }),
      providerKeys: new ProviderKeyService({
        store,
        tester,
        testLimiter,
        outboundAllowlist: config.providers.outboundAllowlist,
        logger,
      }),
    },
  };
}
