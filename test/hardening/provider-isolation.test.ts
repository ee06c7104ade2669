import { MeDocument, ProviderKeysDocument, TestProviderKeyDocument } from '../generated/graphql';
import { AiProvider } from '../../src/providers/ai-provider.enum';
import { makeKey } from '../support/fake-providers';
import { startTestApp, TestApp } from '../support/test-app';

// A provider that hangs, or floods us with an endless body, ties up only the tests waiting on it.

describe('a hanging or flooding provider', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp('sqlite', {
      slowMs: 60_000,
      env: { PROVIDER_TIMEOUT_MS: '4000', TEST_RATE_LIMIT_PER_MINUTE: '1000' },
    });
  });
  afterAll(() => app.stop());

  it('does not stall other requests, and its tests end by the timeout', async () => {
    const alice = await app.token('user_alice', 'acct_acme');
    const finished: string[] = [];
    const stuck = [
      ...Array.from({ length: 20 }, (_, i) => ['hang', makeKey(AiProvider.OPENAI, 'SLOW', i)]),
      ...Array.from({ length: 5 }, (_, i) => ['flood', makeKey(AiProvider.OPENAI, 'ENDLESS', i)]),
      ...Array.from({ length: 5 }, (_, i) => ['hang', makeKey(AiProvider.OPENAI, 'DRIP', i)]),
    ].map(([kind, apiKey]) =>
      app.gql(TestProviderKeyDocument, { input: { provider: 'OPENAI', apiKey } }, alice).then((result) => {
        finished.push(kind);
        return result;
      }),
    );

    // While those hang (floods are cut at 1 MiB), ordinary requests are answered, all before any hung test ends.
    for (let i = 0; i < 20; i++) {
      const [me, keys] = await Promise.all([
        app.gql(MeDocument, {}, alice),
        app.gql(ProviderKeysDocument, {}, alice),
      ]);
      expect(me.data?.me.role).toBe('ADMIN');
      expect(keys.errors).toBeUndefined();
      finished.push('ordinary');
    }
    expect(finished.filter((entry) => entry === 'ordinary')).toHaveLength(20);
    expect(finished).not.toContain('hang');

    const results = await Promise.all(stuck);
    expect(results.map((result) => result.data?.testProviderKey.health)).toEqual([
      ...Array(20).fill('PROVIDER_UNREACHABLE'),
      ...Array(5).fill('PROVIDER_ERROR'),
      ...Array(5).fill('PROVIDER_UNREACHABLE'),
    ]);
    // And we hung up on every endless body (the fake notices the closed socket a moment later).
    for (let attempt = 0; attempt < 40 && app.providers.openStreams > 0; attempt++)
      await new Promise((resolve) => setTimeout(resolve, 50));
    expect(app.providers.openStreams).toBe(0);
  }, 30_000);
});
