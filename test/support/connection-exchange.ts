import diagnostics from 'node:diagnostics_channel';
import { print } from 'graphql';
import {
  TestProviderKeyDocument,
  type TestProviderKeyInput,
  type TestProviderKeyMutation,
} from '../generated/graphql';
import { AiProvider } from '../../src/providers/ai-provider.enum';
import { ProviderKeyEvent } from '../../src/provider-keys/provider-key-event.entity';
import { isOutboundPolicyError } from '../../src/providers/outbound-policy';
import type { FakeProviders, RecordedRequest, Scenario } from './fake-providers';
import { keyFragmentsIn } from './key-fragments';
import type { GraphqlResult, TestApp } from './test-app';

// One testProviderKey call through the real service and everything it caused: the response as sent,
// the log lines, what the fake providers saw, and the outbound connections the service opened (read off
// undici's diagnostics channels). For the "Test Connection" suites.

export const DEPLOYMENT = 'gpt41-prod';

export type ConnectionTest = TestProviderKeyMutation['testProviderKey'];
export type GqlError = NonNullable<GraphqlResult<unknown>['errors']>[number];

/**
 * Outbound connections as undici reports them on its diagnostics channels: opened, refused by our
 * outbound policy, or failed otherwise (a closed port would be ECONNREFUSED). The service runs in this
 * process, so this is how a test through the API tells "refused by policy" from "nothing listened".
 * The test client's own connections to the service are left out (see exchange).
 */
export interface ConnectAttempt {
  origin: string;
  /** 'connected', 'policy' (refused by our outbound policy), or the error code */
  outcome: string;
}
const attempts: ConnectAttempt[] = [];
type ConnectMessage = {
  connectParams: { protocol: string; hostname: string; port: string };
  error?: unknown;
};
const originOf = ({ protocol, hostname, port }: ConnectMessage['connectParams']) =>
  `${protocol}//${hostname}${port ? `:${port}` : ''}`;
const onConnected = (message: unknown) => {
  attempts.push({ origin: originOf((message as ConnectMessage).connectParams), outcome: 'connected' });
};
const onConnectError = (message: unknown) => {
  const { connectParams, error } = message as ConnectMessage;
  const outcome = isOutboundPolicyError(error)
    ? 'policy'
    : String((error as { code?: unknown } | null)?.code ?? error);
  attempts.push({ origin: originOf(connectParams), outcome });
};
/** Call at a test file's top level: records outbound connection attempts while its tests run. */
export function watchOutboundConnections(): void {
  beforeAll(() => {
    diagnostics.subscribe('undici:client:connected', onConnected);
    diagnostics.subscribe('undici:client:connectError', onConnectError);
  });
  afterAll(() => {
    diagnostics.unsubscribe('undici:client:connected', onConnected);
    diagnostics.unsubscribe('undici:client:connectError', onConnectError);
  });
}

/** One testProviderKey call and everything it caused. */
export interface Exchange {
  /** The response body exactly as sent to the client. */
  text: string;
  result: ConnectionTest | null | undefined;
  error: GqlError | undefined;
  /** The log lines written during the call (see logText). */
  logs: string;
  requests: RecordedRequest[];
  connections: number;
  /** Host names the service asked DNS about. */
  lookups: string[];
  /** Outbound connections the service opened or tried to open. */
  attempts: ConnectAttempt[];
  startedAt: number;
  finishedAt: number;
  elapsedMs: number;
}

/**
 * The log lines written since `from`, each without pino's own `time` (a 13-digit epoch): makeKey pads
 * keys with digits, so a timestamp would match a digit run of the key by chance. The fake's port is
 * scaffolding for the same reason (debug lines log the endpoint the client sent).
 */
function logText(app: TestApp, from: number): string {
  return app.logs
    .slice(from)
    .map((line) => {
      const { time: _time, ...entry } = JSON.parse(line) as Record<string, unknown>;
      return JSON.stringify(entry);
    })
    .join('\n')
    .replaceAll(`:${app.providers.port}`, ':<port>');
}

export async function exchange(
  app: TestApp,
  input: TestProviderKeyInput,
  token: string | undefined,
  lookups?: { calls: string[] },
): Promise<Exchange> {
  const fake = app.providers;
  fake.reset();
  if (lookups) lookups.calls.length = 0;
  const logsFrom = app.logs.length;
  attempts.length = 0;
  const startedAt = Date.now();
  const { text, json } = await app.post(
    { query: print(TestProviderKeyDocument), variables: { input } },
    token ? { authorization: `Bearer ${token}` } : {},
  );
  const finishedAt = Date.now();
  const body = json as GraphqlResult<TestProviderKeyMutation>;
  return {
    text,
    result: body.data?.testProviderKey,
    error: body.errors?.[0],
    logs: logText(app, logsFrom),
    requests: [...fake.requests],
    connections: fake.connections,
    lookups: [...(lookups?.calls ?? [])],
    attempts: attempts.filter((attempt) => attempt.origin !== new URL(app.url).origin),
    startedAt,
    finishedAt,
    elapsedMs: finishedAt - startedAt,
  };
}

export function candidate(fake: FakeProviders, provider: AiProvider, apiKey: string): TestProviderKeyInput {
  const azure = provider === AiProvider.AZURE_OPENAI;
  return {
    provider: provider,
    apiKey,
    ...(azure ? { endpoint: fake.azureEndpoint, deployment: DEPLOYMENT } : {}),
  };
}

/**
 * No 5-character run of the key in the response or the log lines of the call. Pieces lying wholly
 * inside the fake's scenario marker are ignored: they are the test's words (QUOTA, ERROR500), which
 * the API says too (QUOTA_EXCEEDED, PROVIDER_ERROR); the key's own characters are all checked.
 */
export function expectNoKeyIn(call: Exchange, key: string, marker?: Scenario): void {
  const ignore = marker && marker !== 'VALID' ? [marker] : [];
  // The scan must have something to scan: the operation's own log line is always written.
  expect(call.logs).toMatch(/"msg":"graphql operation"/);
  expect({ response: keyFragmentsIn(call.text, key, ignore) }).toEqual({ response: [] });
  expect({ logs: keyFragmentsIn(call.logs, key, ignore) }).toEqual({ logs: [] });
}

/** Not a byte to the fake, and no outbound connection attempted anywhere. */
export function expectNoNetwork(call: Exchange): void {
  expect(call.requests).toEqual([]);
  expect(call.connections).toBe(0);
  expect(call.attempts).toEqual([]);
}

export function expectError(
  call: Exchange,
  code: string,
  extensions: Record<string, unknown> = {},
): GqlError {
  expect(call.result ?? null).toBeNull();
  expect(call.error?.extensions).toMatchObject({ code, ...extensions });
  // Our messages say what to fix; none may reach the client with part of its advice cut out.
  expect(call.error?.message).not.toMatch(/value hidden/);
  return call.error as GqlError;
}

export async function storedRows(app: TestApp): Promise<{ keys: number; events: number }> {
  const [{ n }] = await app.dataSource.query<{ n: number | string }[]>(
    'SELECT COUNT(*) AS n FROM provider_keys',
  );
  return { keys: Number(n), events: await app.dataSource.getRepository(ProviderKeyEvent).count() };
}
