import { AddProviderKeyDocument, ProviderKeysDocument } from '../generated/graphql';
import { AiProvider } from '../../src/providers/ai-provider.enum';
import { makeKey } from '../support/fake-providers';
import { DATABASES, type DatabaseKind, startTestApp, type TestApp } from '../support/test-app';

// Shutting down (SIGTERM runs app.close) while the monitor is testing keys: the tests under way finish
// and are recorded, and no claim is left behind for another replica to wait out.

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const PROVIDERS = [AiProvider.OPENAI, AiProvider.ANTHROPIC, AiProvider.GOOGLE_GEMINI, AiProvider.MISTRAL];

interface Row {
  provider: string;
  claimed_by: string | null;
  last_tested_at: Date | string | null;
  next_check_at: Date | string | null;
}

describe.each(DATABASES)('The key monitor on shutdown [%s]', (database: DatabaseKind) => {
  let app: TestApp;
  afterAll(async () => {
    const fake = app?.providers;
    await app?.stop();
    await fake?.close();
  });

  it('lets the tests under way finish, records them, and leaves no claim', async () => {
    app = await startTestApp(database, { env: { KEY_MONITOR_INTERVAL_HOURS: '0.0005' } });
    const alice = await app.token('user_alice', 'acct_acme');
    // Keys whose provider answers after 500 ms, stored untested.
    for (const [i, provider] of PROVIDERS.entries()) {
      const input = { provider, apiKey: makeKey(provider, 'DELAY500', 40 + i), verify: false };
      const added = await app.gql(AddProviderKeyDocument, { input }, alice);
      expect(added.errors).toBeUndefined();
    }
    const rows = () =>
      app.dataSource.query<Row[]>(
        'SELECT provider, claimed_by, last_tested_at, next_check_at FROM provider_keys ORDER BY provider',
      );
    let claimed: Row[] = [];
    for (let i = 0; i < 400 && claimed.length === 0; i++) {
      claimed = (await rows()).filter((row) => row.claimed_by !== null);
      if (claimed.length === 0) await sleep(20);
    }
    expect(claimed.length).toBeGreaterThan(0);
    await app.stop(true);
    const stoppedAt = Date.now();

    // The same database, the monitor off: what the shutdown left.
    app = await startTestApp(database, {
      env: { KEY_MONITOR: 'off' },
      providers: app.providers,
      dataDir: app.dataDir,
      databaseUrl: app.env.DATABASE_URL,
    });
    const after = await rows();
    expect(after.filter((row) => row.claimed_by !== null)).toEqual([]);
    // Each key claimed was tested to the end, or (claimed as the shutdown began, not started) given back
    // due at once for whichever replica is next.
    const asTime = (value: Date | string | null) =>
      value === null
        ? NaN
        : value instanceof Date
          ? value.getTime()
          : Date.parse(`${value.replace(' ', 'T')}Z`);
    const outcomes = claimed.map(({ provider }) => {
      const row = after.find((candidate) => candidate.provider === provider)!;
      return row.last_tested_at !== null
        ? 'tested'
        : asTime(row.next_check_at) <= stoppedAt
          ? 'released'
          : 'left';
    });
    expect(outcomes.filter((outcome) => outcome === 'left')).toEqual([]);
    const listed = await app.gql(ProviderKeysDocument, {}, await app.token('user_alice', 'acct_acme'));
    for (const [i, outcome] of outcomes.entries()) {
      const key = listed.data!.providerKeys.find((stored) => stored.provider === claimed[i].provider);
      expect(key?.health).toBe(outcome === 'tested' ? 'VALID' : 'UNTESTED');
    }
  });
});
