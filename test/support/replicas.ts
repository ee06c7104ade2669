import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { print } from 'graphql';
import { signServiceToken, signToken } from '../../src/auth/jwt';
import { loadConfig } from '../../src/config';
import { FakeProviders } from './fake-providers';
import { dropMysqlDatabase, freshMysqlUrl } from './mysql';
import { runNode, ServiceProcess, startServiceProcess } from './processes';
import { TEST_JWT_SECRET } from './test-app';

// Replicas as the tests of several service processes on one MariaDB start them: over GraphQL and the
// internal credential API, as acme's admin (alice), globex's member (gina) and an analysis pipeline.

export interface Replicas {
  env: Record<string, string>;
  replicas: ServiceProcess[];
  gql(
    replica: number,
    document: Parameters<typeof print>[0],
    variables: unknown,
    token?: string,
  ): Promise<any>;
  resolve(replica: number): Promise<{ apiKey: string; keyVersion: number | null }>;
  alice: string;
  gina: string;
  stop(): Promise<void>;
}

/**
 * Two service processes on one fresh MariaDB database (seeded with the demo accounts), as replicas behind
 * a load balancer run; with `providers`, their OpenAI is the fake one.
 */
export async function startReplicas(
  extra: Record<string, string> = {},
  providers?: FakeProviders,
): Promise<Replicas> {
  const databaseUrl = freshMysqlUrl();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'byok-replicas-'));
  const env = {
    DATABASE_URL: databaseUrl,
    DATA_DIR: dataDir,
    AUTH_JWT_SECRET: TEST_JWT_SECRET,
    BYOK_MASTER_KEYS: `1:${crypto.randomBytes(32).toString('base64')}`,
    INTERNAL_PORT: '0',
    LOG_LEVEL: 'info',
    ...(providers && {
      OPENAI_BASE_URL: providers.baseUrls.OPENAI!,
      OUTBOUND_ALLOWLIST: providers.allowlist.join(','),
      PROVIDER_TIMEOUT_MS: '5000',
    }),
    ...extra,
  };
  const config = loadConfig(env);
  expect(runNode('cli/seed.js', [], env).status).toBe(0);
  const replicas = await Promise.all([startServiceProcess(env), startServiceProcess(env)]);
  const internalUrls = replicas.map((replica) => {
    const url = /"url":"(http:\/\/[^"]+)\/internal\/v1\/"/.exec(replica.output())?.[1];
    if (!url) throw new Error(`no internal listener in:\n${replica.output()}`);
    return url;
  });
  const alice = await signToken(config, { userId: 'user_alice', accountId: 'acct_acme' });
  const gina = await signToken(config, { userId: 'user_gina', accountId: 'acct_globex' });
  const pipeline = await signServiceToken(config, 'analysis', ['credentials:resolve']);
  return {
    env,
    replicas,
    alice,
    gina,
    async gql(replica, document, variables, token = alice) {
      const response = await fetch(`${replicas[replica].url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: print(document), variables }),
      });
      return response.json();
    },
    async resolve(replica) {
      const response = await fetch(`${internalUrls[replica]}/internal/v1/credentials/resolve`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${pipeline}` },
        body: JSON.stringify({ accountId: 'acct_acme', task: 'ANALYSIS' }),
      });
      expect(response.status).toBe(200);
      return (await response.json()) as { apiKey: string; keyVersion: number | null };
    },
    async stop() {
      for (const replica of replicas) replica.child.kill('SIGKILL');
      await Promise.all(replicas.map((replica) => replica.exited));
      await dropMysqlDatabase(databaseUrl);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
