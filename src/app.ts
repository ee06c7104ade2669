import 'reflect-metadata';
import { DestinationStream } from 'pino';
import { DataSource } from 'typeorm';
import { Config } from './config';
import { hasAccounts, seedDemo } from './accounts/demo-seed';
import { createTokenVerifier } from './auth/jwt';
import { openDatabase } from './db/data-source';
import { buildAppSchema } from './graphql/schema';
import { createServices } from './graphql/services';
import { createLogger, Logger } from './logger';
import { RunningServer, startServer } from './server';

// The whole service, assembled from a validated configuration. main.ts runs it as a process; the
// end-to-end tests run it in theirs, on a real port and a real database.

export interface App {
  url: string;
  dataSource: DataSource;
  logger: Logger;
  /** Drains in-flight requests, then closes the server and the database pool. */
  close(): Promise<void>;
}

export interface AppOverrides {
  logDestination?: DestinationStream;
}

export async function startApp(config: Config, overrides: AppOverrides = {}): Promise<App> {
  const logger = createLogger(config.logLevel, overrides.logDestination);
  const verifyToken = createTokenVerifier(config);
  const dataSource = await openDatabase(config.database);
  let server: RunningServer;
  try {
    if (config.database.type === 'sqlite' && !(await hasAccounts(dataSource))) {
      await seedDemo(dataSource);
      logger.info('seeded the demo accounts into the empty embedded database');
    }
    server = await startServer({
      host: config.host,
      port: config.port,
      production: config.production,
      schema: await buildAppSchema(),
      services: createServices(dataSource),
      verifyToken,
      logger,
      readiness: async () => {
        await dataSource.query('SELECT 1');
      },
    });
  } catch (error) {
    await dataSource.destroy();
    throw error;
  }
  return {
    url: server.url,
    dataSource,
    logger,
    async close() {
      await server.close();
      await dataSource.destroy();
    },
  };
}
