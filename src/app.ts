import 'reflect-metadata';
import { DestinationStream } from 'pino';
import { DataSource } from 'typeorm';
import { Config } from './config';
import { hasAccounts, seedDemo } from './accounts/demo-seed';
import { createTokenVerifier } from './auth/jwt';
import { Keyring, loadKeyring } from './crypto/keyring';
import { openDatabase } from './db/data-source';
import { ProviderSettings } from './providers/connection-tester';
import { compareMasterKeyChecks, verifyMasterKeys } from './provider-keys/master-key-rotation';
import { ProviderKey } from './provider-keys/provider-key.entity';
import { AiTask } from './providers/ai-provider.enum';
import { ResolvedCredential } from './routing/route.service';
import { buildAppSchema } from './graphql/schema';
import { createServices, Services } from './graphql/services';
import { createLogger, Logger } from './logger';
import { RunningServer, startServer } from './server';

// The whole service, assembled from a validated configuration. main.ts runs it as a process; the
// end-to-end tests run it in theirs, on a real port and a real database.

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
async function checkReadiness(dataSource: DataSource, keyring: Keyring): Promise<void> {
  await compareMasterKeyChecks(dataSource, keyring);
  const rows: { version: number }[] = await dataSource
    .getRepository(ProviderKey)
    .createQueryBuilder('k')
    .select('DISTINCT k.masterKeyVersion', 'version')
    .getRawMany();
  const missing = rows.map((row) => Number(row.version)).filter((version) => !keyring.has(version));
  if (missing.length) throw new Error(`stored keys need master key version(s) ${missing.join(', ')}, which BYOK_MASTER_KEYS lacks`);
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
  const dataSource = await openDatabase(config.database);
  let server: RunningServer;
  let services: Services;
  try {
    await verifyMasterKeys(dataSource, keyring);
    if (config.database.type === 'sqlite' && !(await hasAccounts(dataSource))) {
      await seedDemo(dataSource);
      logger.info('seeded the demo accounts into the empty embedded database');
    }
    services = createServices(config, dataSource, keyring, logger, overrides.lookup);
    server = await startServer({
      host: config.host,
      port: config.port,
      corsOrigins: config.corsOrigins,
      production: config.production,
      limits: config.graphql,
      http: config.http,
      schema: await buildAppSchema(),
      services,
      verifyToken,
      logger,
      readiness: () => checkReadiness(dataSource, keyring),
    });
  } catch (error) {
    await dataSource.destroy();
    throw error;
  }
  return {
    url: server.url,
    resolveCredential: (accountId, task) => services.routes.resolveCredential(accountId, task),
    dataSource,
    logger,
    async close() {
      await server.close();
      await services.tester.close();
      await dataSource.destroy();
    },
  };
}
