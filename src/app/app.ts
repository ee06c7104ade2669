import 'reflect-metadata';
import { DestinationStream } from 'pino';
import { DataSource } from 'typeorm';
import { hasAccounts, seedDemo } from '../accounts/demo-seed';
import { createTokenVerifier } from '../auth/jwt';
import { createMembershipReader } from '../auth/membership.query';
import { unauthenticatedPlugin } from '../auth/unauthenticated.plugin';
import { IdentityLoader } from '../auth/viewer';
import { Config } from '../config';
import { Keyring, loadKeyring } from '../crypto/keyring';
import { createLogger, Logger } from '../logger';
import { AiTask } from '../providers/ai-task.enum';
import { ProviderSettings } from '../providers/connection-tester';
import { compareMasterKeyChecks, verifyMasterKeys } from '../provider-keys/master-key-rotation';
import { ProviderKeyStore } from '../provider-keys/provider-key.store';
import { ResolvedCredential } from '../routing/route.service';
import { RunningServer, startServer } from '../server';
import { openAppDatabase } from './database';
import { buildAppSchema } from './schema';
import { AppContext, createServices } from './services';

// The composition root: the whole service, assembled from a validated configuration. main.ts runs it
// as a process; the end-to-end tests run it in theirs, on a real port and a real database. Arrows run
// one way: this folder imports the capabilities, they import the kernel (graphql/, db/, crypto/), and
// nothing imports this folder but the entry points (main.ts, cli/, ormconfig.ts).

export interface App {
  url: string;
  /**
   * The integration point for the platform's pipelines (in-process only, never exposed over GraphQL):
   * the provider, model and plaintext credential to use for one AI task of an account.
   */
  resolveCredential(accountId: string, task: AiTask): Promise<ResolvedCredential>;
  dataSource: DataSource;
  logger: Logger;
  /** Drains in-flight requests, then closes the server and the database pool. */
  close(): Promise<void>;
}

export interface AppOverrides {
  logDestination?: DestinationStream;
  /** Tests only: DNS for outbound connection tests. */
  lookup?: ProviderSettings['lookup'];
}

/**
 * Ready only while the database answers, the keyring's keys match their recorded check values, and
 * every stored key's master key version is in the keyring.
 */
async function checkReadiness(
  dataSource: DataSource,
  store: ProviderKeyStore,
  keyring: Keyring,
): Promise<void> {
  await compareMasterKeyChecks(dataSource, keyring);
  const missing = [...(await store.countByMasterKeyVersion()).keys()].filter(
    (version) => !keyring.has(version),
  );
  if (missing.length)
    throw new Error(
      `stored keys need master key version(s) ${missing.join(', ')}, which BYOK_MASTER_KEYS lacks`,
    );
}

export async function startApp(config: Config, overrides: AppOverrides = {}): Promise<App> {
  const logger = createLogger(config.logLevel, overrides.logDestination);
  const verifyToken = createTokenVerifier(config);
  const keyring = loadKeyring({
    spec: config.masterKeys,
    production: config.production,
    dataDir: config.dataDir,
    warn: (message) => logger.warn(message),
  });
  const dataSource = await openAppDatabase(config.database);
  let server: RunningServer;
  let wiring: ReturnType<typeof createServices>;
  try {
    wiring = createServices(config, dataSource, keyring, logger, overrides.lookup);
    await verifyMasterKeys(dataSource, wiring.store, keyring);
    if (config.database.type === 'sqlite' && !(await hasAccounts(dataSource))) {
      await seedDemo(dataSource);
      logger.info('seeded the demo accounts into the empty embedded database');
    }
    const { store, services } = wiring;
    // auth reads the membership and, in the same statement, the account's keys (provider-keys' part).
    const readMembership = createMembershipReader(dataSource, store.accountPart);
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
        auth: new IdentityLoader(req.headers.authorization, verifyToken, readMembership),
        services,
        log: logger,
      }),
      plugins: [unauthenticatedPlugin()],
      logger,
      readiness: () => checkReadiness(dataSource, store, keyring),
    });
  } catch (error) {
    await dataSource.destroy();
    throw error;
  }
  return {
    url: server.url,
    resolveCredential: (accountId, task) => wiring.services.routes.resolveCredential(accountId, task),
    dataSource,
    logger,
    async close() {
      await server.close();
      await wiring.tester.close();
      await dataSource.destroy();
    },
  };
}
