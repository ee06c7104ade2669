import { DataSource } from 'typeorm';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { Config } from '../config';
import { Keyring } from '../crypto/keyring';
import { Logger } from '../logger';
import { ConnectionTester, ProviderSettings } from '../providers/connection-tester';
import { ProviderKeyService } from '../provider-keys/provider-key.service';
import { RouteService } from '../routing/route.service';

// What resolvers reach through the context. Built once at start-up and shared by every request.

export interface Services {
  dataSource: DataSource;
  keyring: Keyring;
  providerKeys: ProviderKeyService;
  tester: ConnectionTester;
  routes: RouteService;
}

export function createServices(
  config: Config,
  dataSource: DataSource,
  keyring: Keyring,
  logger: Logger,
  lookup?: ProviderSettings['lookup'],
): Services {
  const tester = new ConnectionTester({ ...config.providers, lookup });
  // Per process: with several replicas, each allows this many (see README).
  const testLimiter = new RateLimiterMemory({ points: config.testRateLimitPerMinute, duration: 60 });
  return {
    dataSource,
    keyring,
    tester,
    routes: new RouteService({ dataSource, keyring, builtin: config.builtin }),
    providerKeys: new ProviderKeyService({
      dataSource,
      keyring,
      tester,
      testLimiter,
      outboundAllowlist: config.providers.outboundAllowlist,
      logger,
    }),
  };
}
