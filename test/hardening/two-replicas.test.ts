import crypto from 'node:crypto';
import { createConnection } from 'mysql2/promise';
import { Redis } from 'ioredis';
import {
  AddProviderKeyDocument,
  RotateProviderKeyDocument,
  TestProviderKeyDocument,
} from '../generated/graphql';
import { AiProvider } from '../../src/providers/ai-provider.enum';
import { FakeProviders, makeKey, startFakeProviders } from '../support/fake-providers';
import { Replicas, startReplicas } from '../support/replicas';

// Two service processes behind one imaginary load balancer, on one MariaDB: the connection-test rate
// limit holds across both (in the database, or in Redis with REDIS_URL), what one writes the other's next
// resolve serves, and a SIGTERM to one lets its in-flight requests finish while the other goes on.

const { OPENAI } = AiProvider;
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Ten tests of acme's candidate key, alternating replicas, then the eleventh through each. */
async function eleventhRefusedEverywhere(setup: Replicas, seed: number): Promise<void> {
  const input = { provider: OPENAI, apiKey: makeKey(OPENAI, 'VALID', seed) };
  const answers = [];
  for (let i = 0; i < 10; i++) answers.push(await setup.gql(i % 2, TestProviderKeyDocument, { input }));
  expect(answers.map((answer) => answer.errors ?? answer.data.testProviderKey.ok)).toEqual(
    Array(10).fill(true),
  );
  for (const replica of [0, 1]) {
    const eleventh = await setup.gql(replica, TestProviderKeyDocument, { input });
    expect({ replica, code: eleventh.errors?.[0].extensions.code }).toEqual({
      replica,
      code: 'RATE_LIMITED',
    });
  }
}

describe('two replicas on one MariaDB', () => {
  let providers: FakeProviders;
  let setup: Replicas;
  beforeAll(async () => {
    providers = await startFakeProviders({ slowMs: 1_500 });
    setup = await startReplicas({}, providers);
  }, 60_000);
  afterAll(async () => {
    await setup?.stop();
    await providers?.close();
  });

  it('refuses the 11th connection test of a minute whichever replica it reaches (rate limit in the database)', async () => {
    await eleventhRefusedEverywhere(setup, 1);
    const connection = await createConnection({ uri: setup.env.DATABASE_URL });
    try {
      const [rows] = await connection.query('SELECT `key`, points FROM rate_limits');
      expect(rows).toEqual([{ key: 'connection-test:acct_acme', points: 12 }]);
    } finally {
      await connection.end();
    }
  });

  it("serves a rotation made through one replica on the other's next resolve", async () => {
    const [first, second] = [makeKey(OPENAI, 'VALID', 2), makeKey(OPENAI, 'VALID', 3)];
    const added = await setup.gql(0, AddProviderKeyDocument, {
      input: { provider: OPENAI, apiKey: first, verify: false },
    });
    expect(added.errors).toBeUndefined();
    expect(await setup.resolve(1)).toMatchObject({ apiKey: first, keyVersion: 1 });
    const rotated = await setup.gql(1, RotateProviderKeyDocument, {
      input: { provider: OPENAI, apiKey: second, verify: false },
    });
    expect(rotated.errors).toBeUndefined();
    expect(await setup.resolve(0)).toMatchObject({ apiKey: second, keyVersion: 2 });
  });

  it('lets the in-flight requests of a replica given SIGTERM finish; the other goes on', async () => {
    // The fake answers this key after 1.5 s: the test is under way when the signal comes.
    const slow = { provider: OPENAI, apiKey: makeKey(OPENAI, 'SLOW', 4) };
    const inFlight = [0, 1, 2].map(() => setup.gql(0, TestProviderKeyDocument, { input: slow }, setup.gina));
    await new Promise((resolve) => setTimeout(resolve, 500));
    setup.replicas[0].child.kill('SIGTERM');
    const answers = await Promise.all(inFlight);
    expect(answers.map((answer) => answer.errors ?? answer.data.testProviderKey.ok)).toEqual([
      true,
      true,
      true,
    ]);
    expect(await setup.replicas[0].exited).toBe(0);
    expect(setup.replicas[0].output()).toContain('draining in-flight requests');
    expect(await setup.resolve(1)).toMatchObject({ keyVersion: 2 });
  });
});

describe('two replicas with REDIS_URL', () => {
  const prefix = `byok-test-${crypto.randomBytes(4).toString('hex')}`;
  let providers: FakeProviders;
  let setup: Replicas;
  beforeAll(async () => {
    providers = await startFakeProviders();
    setup = await startReplicas({ REDIS_URL, REDIS_KEY_PREFIX: prefix }, providers);
  }, 60_000);
  afterAll(async () => {
    await setup?.stop();
    await providers?.close();
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('refuses the 11th connection test of a minute whichever replica it reaches (rate limit in Redis)', async () => {
    await eleventhRefusedEverywhere(setup, 5);
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    try {
      expect(await redis.get(`${prefix}:connection-test:acct_acme`)).toBe('12');
    } finally {
      redis.disconnect();
    }
    // Counted in Redis only: the database's table stays empty.
    const connection = await createConnection({ uri: setup.env.DATABASE_URL });
    try {
      const [rows] = await connection.query('SELECT COUNT(*) AS n FROM rate_limits');
      expect(rows).toEqual([{ n: 0 }]);
    } finally {
      await connection.end();
    }
  });
});
