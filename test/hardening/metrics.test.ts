import { AddProviderKeyDocument, MeDocument, TestProviderKeyDocument } from '../generated/graphql';
import { AiProvider } from '../../src/providers/ai-provider.enum';
import { ProviderKey } from '../../src/provider-keys/provider-key.entity';
import { makeKey } from '../support/fake-providers';
import { SECRET } from '../support/webhook-receiver';
import { DATABASES, startTestApp, TestApp } from '../support/test-app';

// GET /metrics as Prometheus scrapes it: on the internal listener (or METRICS_PORT's own), never on the
// public one; the figures follow what clients did; no label carries an account id or a key.

const { OPENAI } = AiProvider;

/** The value of one sample, e.g. sample(text, 'byok_graphql_operations_total{operation="Me",outcome="OK"}'). */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function scrape(base: string): Promise<string> {
  const response = await fetch(`${base}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return response.text();
}

describe.each(DATABASES)('metrics [%s]', (database) => {
  let app: TestApp;
  const valid = makeKey(OPENAI, 'VALID', 4);
  const invalid = makeKey(OPENAI, 'REVOKED', 5);
  beforeAll(async () => {
    app = await startTestApp(database, {
      env: {
        INTERNAL_PORT: '0',
        TEST_RATE_LIMIT_PER_MINUTE: '3',
        // No receiver listens there: the event of the added key stays pending (retried in about 30 s).
        WEBHOOK_URL: 'http://127.0.0.1:1/webhooks',
        WEBHOOK_SECRET: SECRET,
      },
      overrides: { monitorLagSeconds: () => 42 },
    });
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('counts operations, tests, refusals, resolves and reports, and shows the outbox and the pool', async () => {
    const alice = await app.token('user_alice', 'acct_acme');
    await app.gql(MeDocument, {}, alice);
    await app.gql(MeDocument, {}, alice);
    await app.gql(MeDocument, {}); // UNAUTHENTICATED
    const added = await app.gql(
      AddProviderKeyDocument,
      { input: { provider: OPENAI, apiKey: valid } },
      alice,
    );
    expect(added.errors).toBeUndefined();
    await app.gql(TestProviderKeyDocument, { input: { provider: OPENAI, apiKey: invalid } }, alice);
    await app.gql(TestProviderKeyDocument, { input: { provider: OPENAI } }, alice); // the third test
    const refused = await app.gql(TestProviderKeyDocument, { input: { provider: OPENAI } }, alice);
    expect(refused.errors?.[0].extensions?.code).toBe('RATE_LIMITED');
    // A name a client made up, as long as a key, and one the document does not define.
    await app.post(
      { query: 'query sk_proj_abcdefghij0123456789XYZ { me { role } }' },
      { authorization: `Bearer ${alice}` },
    );
    await app.post({ query: '{ me { role } }', operationName: 'Nope' }, { authorization: `Bearer ${alice}` });
    const pipeline = await app.serviceToken('analysis', ['credentials:resolve', 'credentials:report']);
    const resolved = await app.internal(
      '/internal/v1/credentials/resolve',
      { accountId: 'acct_acme', task: 'ANALYSIS' },
      pipeline,
    );
    expect(resolved.status).toBe(200);
    const { keyId, keyVersion } = resolved.json as { keyId: string; keyVersion: number };
    await app.internal(
      '/internal/v1/credentials/report',
      { accountId: 'acct_acme', keyId, keyVersion, outcome: 'OK' },
      pipeline,
    );
    await app.internal(
      '/internal/v1/credentials/resolve',
      { accountId: 'acct_nobody', task: 'ANALYSIS' },
      pipeline,
    );

    const text = await scrape(app.internalUrl!);
    const ops = (operation: string, outcome: string) =>
      sample(text, `byok_graphql_operations_total{operation="${operation}",outcome="${outcome}"}`);
    expect(ops('Me', 'OK')).toBe(2);
    expect(ops('Me', 'UNAUTHENTICATED')).toBe(1);
    expect(ops('AddProviderKey', 'OK')).toBe(1);
    expect(ops('TestProviderKey', 'OK')).toBe(2);
    expect(ops('TestProviderKey', 'RATE_LIMITED')).toBe(1);
    expect(ops('other', 'OK')).toBe(1);
    expect(ops('unknown', 'BAD_USER_INPUT')).toBe(1);
    expect(sample(text, 'byok_graphql_operation_duration_seconds_count{operation="Me"}')).toBe(3);
    expect(sample(text, 'byok_connection_tests_total{health="VALID"}')).toBe(2);
    expect(sample(text, 'byok_connection_tests_total{health="INVALID_KEY"}')).toBe(1);
    expect(sample(text, 'byok_connection_test_refusals_total{reason="rate_limited"}')).toBe(1);
    expect(sample(text, 'byok_credential_requests_total{route="resolve",outcome="BYOK_KEY"}')).toBe(1);
    expect(sample(text, 'byok_credential_requests_total{route="resolve",outcome="ACCOUNT_NOT_FOUND"}')).toBe(
      1,
    );
    expect(sample(text, 'byok_credential_requests_total{route="report",outcome="OK"}')).toBe(1);
    expect(sample(text, 'byok_webhook_outbox_events{status="pending"}')).toBe(1);
    expect(sample(text, 'byok_webhook_outbox_events{status="failed"}')).toBe(0);
    expect(sample(text, 'byok_monitor_lag_seconds')).toBe(42);
    if (database === 'mariadb') {
      // The scrape's own outbox query may hold a connection meanwhile.
      const open = sample(text, 'byok_db_pool_connections{state="open"}')!;
      expect(open).toBeGreaterThan(0);
      expect(sample(text, 'byok_db_pool_connections{state="in_use"}')).toBeLessThanOrEqual(open);
    }
    // No account id, no key, no made-up name in any label.
    expect(text).not.toMatch(/acct_|user_|sk_proj|Nope/);
    expect(text).not.toContain(valid.slice(-8));
  });

  it('is not served on the public listener', async () => {
    const response = await fetch(`${app.url}/metrics`);
    expect(response.status).toBe(404);
    expect(await response.text()).not.toMatch(/byok_/);
  });
});

describe('metrics on METRICS_PORT', () => {
  it('serves /metrics there only: not on the internal listener, not on the public one', async () => {
    const app = await startTestApp('sqlite', {
      env: { INTERNAL_PORT: '0', METRICS_PORT: '0', KEY_MONITOR: 'off' },
    });
    try {
      expect(app.metricsUrl).not.toBe(app.internalUrl);
      const text = await scrape(app.metricsUrl!);
      expect(text).toMatch(/^# HELP byok_graphql_operations_total/m);
      // Without a monitor the lag has no sample.
      expect(sample(text, 'byok_monitor_lag_seconds')).toBeUndefined();
      for (const base of [app.internalUrl!, app.url])
        expect((await fetch(`${base}/metrics`)).status).toBe(404);
      expect((await fetch(`${app.metricsUrl}/other`)).status).toBe(404);
    } finally {
      await app.stop();
    }
  });
});

describe.each(DATABASES)('the monitor lag [%s]', (database) => {
  it('is the age of the most overdue key of a GROWTH account, read from the database', async () => {
    // The default interval (24 h) polls every 60 s: between polls, an overdue key stays overdue.
    const app = await startTestApp(database, { env: { INTERNAL_PORT: '0' } });
    try {
      const alice = await app.token('user_alice', 'acct_acme');
      const added = await app.gql(
        AddProviderKeyDocument,
        { input: { provider: OPENAI, apiKey: makeKey(OPENAI, 'VALID', 6) } },
        alice,
      );
      expect(added.errors).toBeUndefined();
      const lag = async () => sample(await scrape(app.internalUrl!), 'byok_monitor_lag_seconds');
      expect(await lag()).toBe(0);

      await app.dataSource
        .getRepository(ProviderKey)
        .update({ accountId: 'acct_acme' }, { nextCheckAt: new Date(Date.now() - 3_600_000) });
      const late = (await lag())!;
      expect(late).toBeGreaterThanOrEqual(3_590);
      expect(late).toBeLessThan(3_700);

      // A STARTER account's keys are not tested, so they are never late.
      await app.dataSource.query("UPDATE accounts SET plan = 'STARTER' WHERE id = 'acct_acme'");
      expect(await lag()).toBe(0);
    } finally {
      await app.stop();
    }
  });
});
