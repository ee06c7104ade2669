import { createConnection } from 'mysql2/promise';
import { print } from 'graphql';
import {
  AddProviderKeyDocument,
  RemoveProviderKeyDocument,
  RotateProviderKeyDocument,
} from '../generated/graphql';
import { AiProvider } from '../../src/providers/ai-provider.enum';
import { makeKey } from '../support/fake-providers';
import { Replicas, startReplicas } from '../support/replicas';

// Two service processes on one MariaDB, as replicas behind a load balancer run: whatever one writes, the
// other's next resolve serves, and a SIGTERM loses none of the usage a replica counted in memory.

const BUILTIN_KEY = 'builtin-mistral-key-0123456789';

describe('two replicas on one MariaDB', () => {
  let setup: Replicas;
  beforeAll(async () => {
    setup = await startReplicas({ BUILTIN_PROVIDER: 'MISTRAL', BUILTIN_MISTRAL_API_KEY: BUILTIN_KEY });
  }, 60_000);
  afterAll(() => setup?.stop());

  const gql = async (replica: number, document: Parameters<typeof print>[0], variables: unknown) => {
    const body = (await setup.gql(replica, document, variables)) as { errors?: unknown };
    expect(body.errors).toBeUndefined();
    return body;
  };
  const resolve = (replica: number) => setup.resolve(replica);

  it('serves through one replica what was written through the other, on the next call', async () => {
    const first = makeKey(AiProvider.OPENAI, 'VALID', 1);
    const second = makeKey(AiProvider.OPENAI, 'VALID', 2);
    await gql(0, AddProviderKeyDocument, { input: { provider: 'OPENAI', apiKey: first, verify: false } });
    expect(await resolve(1)).toMatchObject({ apiKey: first, keyVersion: 1 });
    await gql(0, RotateProviderKeyDocument, { input: { provider: 'OPENAI', apiKey: second, verify: false } });
    expect(await resolve(1)).toMatchObject({ apiKey: second, keyVersion: 2 });
    await gql(1, RemoveProviderKeyDocument, { provider: 'OPENAI' });
    expect(await resolve(0)).toMatchObject({ apiKey: BUILTIN_KEY, keyVersion: null });
  });

  it("writes the usage a replica counted when it gets SIGTERM, and the replicas' counts add up", async () => {
    await gql(0, AddProviderKeyDocument, {
      input: { provider: 'OPENAI', apiKey: makeKey(AiProvider.OPENAI, 'VALID', 3), verify: false },
    });
    const calls = [0, 1, 0, 1, 1, 0, 1, 1, 1, 0, 1, 0, 1, 1, 1, 1, 0, 1, 1, 1]; // 7 through A, 13 through B
    for (const replica of calls) await resolve(replica);
    // Well within the 5 s between flushes: the counts are only in the two processes' memory now.
    for (const replica of setup.replicas) replica.child.kill('SIGTERM');
    expect(await Promise.all(setup.replicas.map((replica) => replica.exited))).toEqual([0, 0]);
    const connection = await createConnection({ uri: setup.env.DATABASE_URL });
    try {
      const [rows] = await connection.query('SELECT SUM(resolves) AS resolves FROM provider_key_usage');
      expect(Number((rows as { resolves: string }[])[0].resolves)).toBe(calls.length);
    } finally {
      await connection.end();
    }
  });
});
