import crypto from 'node:crypto';
import { Redis } from 'ioredis';
import { AddProviderKeyDocument, MeDocument } from '../generated/graphql';
import { ConfigError, loadConfig } from '../../src/config';
import { AiProvider } from '../../src/providers/ai-provider.enum';
import {
  candidate,
  exchange,
  expectError,
  expectNoNetwork,
  storedRows,
} from '../support/connection-exchange';
import { makeKey } from '../support/fake-providers';
import { freshMysqlUrl } from '../support/mysql';
import { startTestApp, TestApp } from '../support/test-app';

// The connection-test rate limit is counted where every replica counts: MariaDB's rate_limits table, or
// Redis with REDIS_URL. Two services (or one restarted) share one allowance; a store that does not answer
// refuses tests instead of letting them through unlimited.

const { OPENAI } = AiProvider;
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const UNAVAILABLE = /Connection tests are unavailable for a moment/;

const apps: TestApp[] = [];
async function start(...args: Parameters<typeof startTestApp>): Promise<TestApp> {
  const app = await startTestApp(...args);
  apps.push(app);
  return app;
}
afterEach(async () => {
  for (const app of apps.splice(0).reverse()) await app.stop();
});

async function testCandidate(app: TestApp, seed: number) {
  const token = await app.token('user_alice', 'acct_acme');
  return exchange(app, candidate(app.providers, OPENAI, makeKey(OPENAI, 'VALID', seed)), token);
}

describe('the connection-test rate limit on MariaDB', () => {
  it('counts in the rate_limits table, so that two services on one database share the allowance', async () => {
    const databaseUrl = freshMysqlUrl();
    const masterKeys = `1:${crypto.randomBytes(32).toString('base64')}`;
    const env = { TEST_RATE_LIMIT_PER_MINUTE: '3', BYOK_MASTER_KEYS: masterKeys };
    const first = await start('mariadb', { databaseUrl, env });
    const second = await start('mariadb', { databaseUrl, env, providers: first.providers });
    const answers = [];
    for (const [index, app] of [first, second, first].entries())
      answers.push(await testCandidate(app, index));
    expect(answers.map((answer) => answer.result?.ok)).toEqual([true, true, true]);
    // The fourth of the minute, through either service.
    for (const app of [second, first]) {
      const fourth = await testCandidate(app, 9);
      expectError(fourth, 'RATE_LIMITED');
      expectNoNetwork(fourth);
    }
    const rows = await first.dataSource.query<{ key: string; points: number; expire: string }[]>(
      'SELECT `key`, points, expire FROM rate_limits',
    );
    expect(rows.map(({ key, points }) => ({ key, points }))).toEqual([
      { key: 'connection-test:acct_acme', points: 5 },
    ]);
    const expiresIn = Number(rows[0].expire) - Date.now();
    expect(expiresIn).toBeGreaterThan(0);
    expect(expiresIn).toBeLessThanOrEqual(60_000);
  });

  it('refuses tests, saving nothing, while the table cannot be used; then tests again', async () => {
    const app = await start('mariadb');
    const token = await app.token('user_alice', 'acct_acme');
    await app.dataSource.query('RENAME TABLE rate_limits TO rate_limits_away');
    try {
      const input = candidate(app.providers, OPENAI, makeKey(OPENAI, 'VALID', 1));
      const added = await app.gql(
        AddProviderKeyDocument,
        { input: { ...input, apiKey: input.apiKey! } },
        token,
      );
      expect(added.errors?.[0]).toMatchObject({
        message: expect.stringMatching(UNAVAILABLE),
        extensions: { code: 'INTERNAL_SERVER_ERROR' },
      });
      expect(await storedRows(app)).toEqual({ keys: 0, events: 0 });
      const tested = await testCandidate(app, 2);
      expect(expectError(tested, 'INTERNAL_SERVER_ERROR').message).toMatch(UNAVAILABLE);
      expectNoNetwork(tested);
      expect(tested.logs).toMatch(/connection test refused: the rate-limit store did not answer/);
    } finally {
      await app.dataSource.query('RENAME TABLE rate_limits_away TO rate_limits');
    }
    expect((await testCandidate(app, 3)).result?.ok).toBe(true);
  });
});

describe('the connection-test rate limit in Redis (REDIS_URL)', () => {
  const prefix = `byok-test-${crypto.randomBytes(4).toString('hex')}`;
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('shares one allowance between services that share no database', async () => {
    const env = { REDIS_URL, REDIS_KEY_PREFIX: prefix, TEST_RATE_LIMIT_PER_MINUTE: '2' };
    const first = await start('sqlite', { env });
    const second = await start('sqlite', { env, providers: first.providers });
    expect((await testCandidate(first, 1)).result?.ok).toBe(true);
    expect((await testCandidate(second, 2)).result?.ok).toBe(true);
    expectError(await testCandidate(first, 3), 'RATE_LIMITED');
    expectError(await testCandidate(second, 4), 'RATE_LIMITED');
    expect(first.logs.join('\n')).toMatch(/"store":"redis"/);
    expect(await redis.get(`${prefix}:connection-test:acct_acme`)).toBe('4');
    const ttl = await redis.pttl(`${prefix}:connection-test:acct_acme`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('refuses tests while Redis does not answer; everything else works', async () => {
    // Port 1 refuses connections: a Redis that is down.
    const app = await start('sqlite', { env: { REDIS_URL: 'redis://:s3cret-pass@127.0.0.1:1' } });
    const token = await app.token('user_alice', 'acct_acme');
    expect((await app.gql(MeDocument, {}, token)).data?.me).toMatchObject({ role: 'ADMIN' });
    const tested = await testCandidate(app, 5);
    expect(expectError(tested, 'INTERNAL_SERVER_ERROR').message).toMatch(UNAVAILABLE);
    expectNoNetwork(tested);
    const logs = app.logs.join('\n');
    expect(logs).toMatch(/Redis \(REDIS_URL\) unreachable/);
    expect(logs).not.toMatch(/s3cret-pass/);
  });

  it('refuses a REDIS_URL that is not one, without quoting it', () => {
    const config = (env: Record<string, string>) => () => loadConfig({ DATA_DIR: '/tmp/unused', ...env });
    for (const url of [
      'http://user:s3cret@127.0.0.1:6379',
      'redis//s3cret',
      'redis://127.0.0.1:6379/x/s3cret',
    ]) {
      expect(config({ REDIS_URL: url })).toThrow(ConfigError);
      expect(config({ REDIS_URL: url })).toThrow(/^REDIS_URL: expected|^REDIS_URL: the path/);
      expect(config({ REDIS_URL: url })).not.toThrow(/s3cret/);
    }
    expect(config({ REDIS_KEY_PREFIX: 'x' })).toThrow(/^REDIS_KEY_PREFIX: is set but REDIS_URL is not/);
    expect(config({ REDIS_URL, REDIS_KEY_PREFIX: 'has space' })).toThrow(/^REDIS_KEY_PREFIX: expected/);
    expect(loadConfig({ REDIS_URL: 'rediss://u:p@cache.example.com:6380/2' }).redis).toEqual({
      url: 'rediss://u:p@cache.example.com:6380/2',
      keyPrefix: 'byok',
    });
  });
});
