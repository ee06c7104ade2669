import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { print } from 'graphql';
import { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { App, AppOverrides, startApp } from '../../src/app/app';
import { Env, loadConfig } from '../../src/config';
import { signServiceToken, signToken } from '../../src/auth/jwt';
import { seedDemo } from '../../src/accounts/demo-seed';
import { dropMysqlDatabase, freshMysqlUrl } from './mysql';
import { FakeProviders, startFakeProviders } from './fake-providers';

// A real service on a real port and a real database, started once per test file and database.

export type DatabaseKind = 'mariadb' | 'sqlite';
export const DATABASES: DatabaseKind[] = ['mariadb', 'sqlite'];

export const TEST_JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789';

export interface GraphqlResult<T> {
  status: number;
  data?: T | null;
  errors?: { message: string; path?: string[]; extensions?: Record<string, unknown> }[];
}

export interface TestApp extends App {
  env: Env;
  /** The fake AI providers this service is pointed at. */
  providers: FakeProviders;
  logs: string[];
  dataDir: string;
  token(userId: string, accountId: string, ttl?: string): Promise<string>;
  /** A service token for the internal credential API (INTERNAL_PORT must be set: env INTERNAL_PORT '0'). */
  serviceToken(service: string, scopes: string[], ttl?: string): Promise<string>;
  /** POST to the internal credential API, as JSON unless `raw`; status, headers, parsed body. */
  internal(
    path: string,
    body: unknown,
    token?: string,
    headers?: Record<string, string>,
  ): Promise<InternalAnswer>;
  gql<T, V>(document: TypedDocumentNode<T, V>, variables?: V, token?: string): Promise<GraphqlResult<T>>;
  post(body: unknown, headers?: Record<string, string>): Promise<{ status: number; json: any; text: string }>;
  stop(keep?: boolean): Promise<void>;
}

export interface InternalAnswer {
  status: number;
  headers: Headers;
  json: any;
  text: string;
}

export interface TestAppOptions {
  env?: Env;
  overrides?: AppOverrides;
  /** Reuse a running fake (and its data directory / database) instead of starting fresh ones. */
  providers?: FakeProviders;
  dataDir?: string;
  databaseUrl?: string;
  slowMs?: number;
}

export async function startTestApp(database: DatabaseKind, options: TestAppOptions = {}): Promise<TestApp> {
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'byok-test-'));
  const providers = options.providers ?? (await startFakeProviders({ slowMs: options.slowMs }));
  const fullEnv: Env = {
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    AUTH_JWT_SECRET: TEST_JWT_SECRET,
    LOG_LEVEL: 'debug',
    OPENAI_BASE_URL: providers.baseUrls.OPENAI,
    ANTHROPIC_BASE_URL: providers.baseUrls.ANTHROPIC,
    GEMINI_BASE_URL: providers.baseUrls.GOOGLE_GEMINI,
    MISTRAL_BASE_URL: providers.baseUrls.MISTRAL,
    OUTBOUND_ALLOWLIST: providers.allowlist.join(','),
    PROVIDER_TIMEOUT_MS: '2000',
    ...(database === 'mariadb' ? { DATABASE_URL: options.databaseUrl ?? freshMysqlUrl() } : {}),
    ...options.env,
  };
  const config = loadConfig(fullEnv);
  const logs: string[] = [];
  const app = await startApp(config, {
    logDestination: { write: (line: string) => logs.push(line) },
    lookup: providers.lookup,
    ...options.overrides,
  });
  await seedDemo(app.dataSource);

  const post = async (body: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, json, text };
  };

  return {
    ...app,
    env: fullEnv,
    providers,
    logs,
    dataDir,
    token: (userId, accountId, ttl) => signToken(config, { userId, accountId }, ttl),
    serviceToken: (service, scopes, ttl) => signServiceToken(config, service, scopes, ttl),
    async internal(path, body, token, headers = {}) {
      if (!app.internalUrl)
        throw new Error('the internal credential API is off: start the test app with INTERNAL_PORT');
      const response = await fetch(`${app.internalUrl}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...headers,
        },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await response.text();
      let json: any;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: response.status, headers: response.headers, json, text };
    },
    post,
    async gql(document, variables, token) {
      const { status, json } = await post(
        { query: print(document), variables },
        token ? { authorization: `Bearer ${token}` } : {},
      );
      return { status, ...json };
    },
    /** Stops the service; keeps the database, data directory and fake when `keep` (for a restart). */
    async stop(keep = false) {
      await app.close();
      if (keep) return;
      if (!options.providers) await providers.close();
      if (config.database.type === 'mysql') await dropMysqlDatabase(config.database.url);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Runs the same tests against every database the service supports, each with its own server. */
export function describeEachDatabase(
  name: string,
  body: (app: () => TestApp) => void,
  options: TestAppOptions = {},
): void {
  describe.each(DATABASES)(`${name} [%s]`, (database) => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startTestApp(database, options);
    });
    afterAll(async () => {
      await app?.stop();
    });
    body(() => app);
  });
}
