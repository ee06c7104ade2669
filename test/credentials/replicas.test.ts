import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createConnection } from 'mysql2/promise';
import { print } from 'graphql';
import {
  AddProviderKeyDocument,
  RemoveProviderKeyDocument,
  RotateProviderKeyDocument,
} from '../generated/graphql';
import { signServiceToken, signToken } from '../../src/auth/jwt';
import { loadConfig } from '../../src/config';
import { AiProvider } from '../../src/providers/ai-provider.enum';
import { makeKey } from '../support/fake-providers';
import { dropMysqlDatabase, freshMysqlUrl } from '../support/mysql';
import { runNode, ServiceProcess, startServiceProcess } from '../support/processes';
import { TEST_JWT_SECRET } from '../support/test-app';

// Two service processes on one MariaDB, as replicas behind a load balancer run: whatever one writes, the
// other's next resolve serves, and a SIGTERM loses none of the usage a replica counted in memory.

const BUILTIN_KEY = 'builtin-mistral-key-0123456789';

describe('two replicas on one MariaDB', () => {
  const databaseUrl = freshMysqlUrl();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'byok-replicas-'));
  const env = {
    DATABASE_URL: databaseUrl,
    DATA_DIR: dataDir,
    AUTH_JWT_SECRET: TEST_JWT_SECRET,
    BYOK_MASTER_KEYS: `1:${crypto.randomBytes(32).toString('base64')}`,
    INTERNAL_PORT: '0',
    BUILTIN_PROVIDER: 'MISTRAL',
    BUILTIN_MISTRAL_API_KEY: BUILTIN_KEY,
    LOG_LEVEL: 'info',
  };
  const config = loadConfig(env);
  let replicas: ServiceProcess[] = [];
  let internalUrls: string[] = [];
  let alice: string;
  let pipeline: string;

  beforeAll(async () => {
    expect(runNode('cli/seed.js', [], env).status).toBe(0);
    replicas = await Promise.all([startServiceProcess(env), startServiceProcess(env)]);
    internalUrls = replicas.map((replica) => {
      const url = /"url":"(http:\/\/[^"]+)\/internal\/v1\/"/.exec(replica.output())?.[1];
      if (!url) throw new Error(`no internal listener in:\n${replica.output()}`);
      return url;
    });
    alice = await signToken(config, { userId: 'user_alice', accountId: 'acct_acme' });
    pipeline = await signServiceToken(config, 'analysis', ['credentials:resolve']);
  }, 60_000);
  afterAll(async () => {
    for (const replica of replicas) replica.child.kill('SIGKILL');
    await dropMysqlDatabase(databaseUrl);
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const gql = async (replica: number, document: Parameters<typeof print>[0], variables: unknown) => {
    const response = await fetch(`${replicas[replica].url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${alice}` },
      body: JSON.stringify({ query: print(document), variables }),
    });
    const body = (await response.json()) as { errors?: unknown };
    expect(body.errors).toBeUndefined();
    return body;
  };
  const resolve = async (replica: number) => {
    const response = await fetch(`${internalUrls[replica]}/internal/v1/credentials/resolve`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${pipeline}` },
      body: JSON.stringify({ accountId: 'acct_acme', task: 'ANALYSIS' }),
    });
    expect(response.status).toBe(200);
    return (await response.json()) as { apiKey: string; keyVersion: number | null };
  };

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
    for (const replica of replicas) replica.child.kill('SIGTERM');
    expect(await Promise.all(replicas.map((replica) => replica.exited))).toEqual([0, 0]);
    const connection = await createConnection({ uri: databaseUrl });
    try {
      const [rows] = await connection.query('SELECT SUM(resolves) AS resolves FROM provider_key_usage');
      expect(Number((rows as { resolves: string }[])[0].resolves)).toBe(calls.length);
    } finally {
      await connection.end();
    }
  });
});
