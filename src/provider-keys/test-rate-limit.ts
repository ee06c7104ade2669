import { Redis } from 'ioredis';
import {
  RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterMySQL,
  RateLimiterRedis,
} from 'rate-limiter-flexible';
import { DataSource } from 'typeorm';
import type { MysqlDriver } from 'typeorm/driver/mysql/MysqlDriver';
import type { Pool } from 'mysql2';
import { Logger } from 'pino';
import { dialectOf } from '../db/dialect';

// Where the connection-test rate limit (TEST_RATE_LIMIT_PER_MINUTE per account) is counted: somewhere
// every replica counts into the same figure. Redis when REDIS_URL is set; else the MySQL database's own
// `rate_limits` table (created by a migration, never by the library at run time, and emptied of expired
// rows by the library itself every 5 minutes); memory only on SQLite, which serves one process. When the
// store cannot be reached the limiter rejects with a plain Error, and the service refuses the test.

/** The table migrations/1732600000500-rate-limits.ts creates, in the columns RateLimiterMySQL expects. */
export const RATE_LIMITS_TABLE = 'rate_limits';

export interface TestRateLimit {
  limiter: RateLimiterAbstract;
  /** Where it counts, for the start-up log: 'redis', 'database' or 'memory'. */
  store: 'redis' | 'database' | 'memory';
  close(): Promise<void>;
}

export interface TestRateLimitOptions {
  perMinute: number;
  dataSource: DataSource;
  redis: { url: string; keyPrefix: string } | undefined;
  logger: Pick<Logger, 'warn' | 'info'>;
}

const KEY_PREFIX = 'connection-test';
/** A test waits at most this long for Redis before it is refused. */
const REDIS_TIMEOUT_MS = 2_000;

export async function createTestRateLimit(options: TestRateLimitOptions): Promise<TestRateLimit> {
  const { perMinute: points, dataSource, redis, logger } = options;
  const duration = 60;
  if (redis) return createRedisLimit(points, duration, redis, logger);
  if (dialectOf(dataSource) === 'sqlite') {
    return {
      limiter: new RateLimiterMemory({ keyPrefix: KEY_PREFIX, points, duration }),
      store: 'memory',
      close: async () => {},
    };
  }
  const driver = dataSource.driver as MysqlDriver;
  const pool = driver.pool as Pool;
  const limiter = new RateLimiterMySQL({
    // TypeORM's own mysql2 pool (callback API, which is what the library speaks): no second pool.
    storeClient: pool,
    storeType: 'pool',
    dbName: driver.database,
    tableName: RATE_LIMITS_TABLE,
    tableCreated: true,
    keyPrefix: KEY_PREFIX,
    points,
    duration,
  });
  return { limiter, store: 'database', close: async () => {} };
}

async function createRedisLimit(
  points: number,
  duration: number,
  redis: { url: string; keyPrefix: string },
  logger: TestRateLimitOptions['logger'],
): Promise<TestRateLimit> {
  const client = new Redis(redis.url, {
    // Without a connection a command fails at once instead of queueing until Redis returns: the test is
    // refused rather than left hanging.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: REDIS_TIMEOUT_MS,
    commandTimeout: REDIS_TIMEOUT_MS,
    // ioredis arms this timer even for a socket that already closed; the default 2 s holds up an exit.
    disconnectTimeout: 100,
    retryStrategy: (attempt) => Math.min(attempt * 200, 5_000),
  });
  // ioredis reports every failed reconnect; one line per outage is enough. The URL is never logged.
  let down = false;
  client.on('error', (error: Error & { code?: string }) => {
    if (down) return;
    down = true;
    logger.warn(
      { reason: error.code ?? error.message },
      'Redis (REDIS_URL) unreachable: connection tests are refused until it answers',
    );
  });
  client.on('ready', () => {
    if (down) logger.info('Redis (REDIS_URL) answers again: connection tests resume');
    down = false;
  });
  // Start-up waits a moment for the first connection, but never fails on it: a Redis that is down
  // refuses connection tests, nothing else.
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, REDIS_TIMEOUT_MS);
    client.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  const limiter = new RateLimiterRedis({
    storeClient: client,
    rejectIfRedisNotReady: true,
    keyPrefix: `${redis.keyPrefix}:${KEY_PREFIX}`,
    points,
    duration,
  });
  return {
    limiter,
    store: 'redis',
    // After the listeners drained no test is under way: nothing is lost by dropping the connection.
    close: async () => client.disconnect(),
  };
}
