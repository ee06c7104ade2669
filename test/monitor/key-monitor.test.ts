import {
  AddProviderKeyDocument,
  AiSettingsDocument,
  ProviderKeyEventsDocument,
  ProviderKeysDocument,
  RemoveProviderKeyDocument,
  TestProviderKeyDocument,
  UpdateAiSettingsDocument,
} from '../generated/graphql';
import { AiProvider } from '../../src/providers/ai-provider.enum';
import { makeKey } from '../support/fake-providers';
import { keyFragmentsIn } from '../support/key-fragments';
import { DATABASES, type DatabaseKind, startTestApp, type TestApp } from '../support/test-app';
import { SECRET, WebhookReceiver, verified } from '../support/webhook-receiver';

// The key monitor as an admin and the platform see it: keys stored through GraphQL, the fake providers
// changing their answer, and what follows in the key's health, routing, the audit trail and the
// webhooks. The interval is 0.001 h (3.6 s), so the monitor looks for due keys every 360 ms.

const INTERVAL_MS = 3_600;
/** One interval, its +10% spread, a poll and the test itself, with room for a loaded machine. */
const WITHIN_AN_INTERVAL_MS = INTERVAL_MS * 1.1 + 360 + 4_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `read` until `done` holds (bounded by `timeoutMs`); the last value read. */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting; last seen ${JSON.stringify(value)}`);
    await sleep(100);
  }
}

describe.each(DATABASES)('The key monitor [%s]', (database: DatabaseKind) => {
  let receiver: WebhookReceiver;
  let app: TestApp;
  let alice: string;
  let gina: string;

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    app = await startTestApp(database, {
      env: {
        KEY_MONITOR_INTERVAL_HOURS: '0.001',
        WEBHOOK_URL: receiver.url,
        WEBHOOK_SECRET: SECRET,
        // The monitor's tests do not count: an admin's test still passes after many of them.
        TEST_RATE_LIMIT_PER_MINUTE: '2',
      },
      overrides: { webhookTiming: { pollMs: 50 } },
    });
    alice = await app.token('user_alice', 'acct_acme');
    gina = await app.token('user_gina', 'acct_globex');
  });
  afterAll(async () => {
    await app?.stop();
    await receiver?.close();
  });

  const keysOf = async (token: string) => (await app.gql(ProviderKeysDocument, {}, token)).data!.providerKeys;
  const openAiKey = async (token = alice) => (await keysOf(token)).find((key) => key.provider === 'OPENAI')!;
  const events = async () =>
    (await app.gql(ProviderKeyEventsDocument, { first: 50 }, alice)).data!.providerKeyEvents.edges.map(
      (edge) => edge.node,
    );
  const webhooksOf = (type: string) => receiver.received.map(verified).filter((body) => body.type === type);
  /** Requests the fake provider saw with `key` (in its auth header). */
  const requestsWith = (key: string) =>
    app.providers.requests.filter((request) => JSON.stringify(request.headers).includes(key)).length;

  it('a key the provider starts refusing turns INVALID_KEY within an interval and leaves routing; it comes back the same way', async () => {
    const key = makeKey(AiProvider.OPENAI, 'VALID', 11);
    const added = await app.gql(
      AddProviderKeyDocument,
      { input: { provider: 'OPENAI', apiKey: key } },
      alice,
    );
    expect(added.data?.addProviderKey).toMatchObject({ health: 'VALID', nextCheckAt: expect.any(String) });
    const keyId = added.data!.addProviderKey.id;
    // Added: first tested about one interval on.
    const firstCheck = Date.parse(added.data!.addProviderKey.nextCheckAt!) - Date.now();
    expect(firstCheck).toBeGreaterThan(INTERVAL_MS * 0.9 - 2_000);
    expect(firstCheck).toBeLessThanOrEqual(INTERVAL_MS * 1.1 + 1_000);
    const off = await app.gql(UpdateAiSettingsDocument, { input: { builtInFallback: false } }, alice);
    expect(off.errors).toBeUndefined();

    // The provider revokes the key.
    app.providers.answerAs(AiProvider.OPENAI, 'REVOKED');
    const broken = await until(
      () => openAiKey(),
      (stored) => stored.health === 'INVALID_KEY',
      WITHIN_AN_INTERVAL_MS,
    );
    expect(broken.lastTestMessage).toMatch(/OpenAI/);
    expect(Date.parse(broken.nextCheckAt!)).toBeGreaterThan(Date.parse(broken.lastTestedAt!));
    const settings = (await app.gql(AiSettingsDocument, {}, alice)).data!.aiSettings;
    expect(settings.routes.map((route) => route.status)).toEqual([
      'UNAVAILABLE',
      'UNAVAILABLE',
      'UNAVAILABLE',
    ]);

    // Tested again and again, still refused: one event and one webhook for the change, not one per test.
    const seen = requestsWith(key);
    await until(
      async () => requestsWith(key),
      (count) => count >= seen + 2,
      2 * WITHIN_AN_INTERVAL_MS,
    );
    await sleep(500); // the dispatcher polls every 50 ms
    const changes = (await events()).filter((event) => event.action === 'HEALTH_CHANGED');
    expect(changes).toEqual([
      expect.objectContaining({ actorId: 'monitor', health: 'INVALID_KEY', previousHealth: 'VALID' }),
    ]);
    expect(webhooksOf('provider_key.health_changed')).toEqual([
      expect.objectContaining({
        data: expect.objectContaining({
          accountId: 'acct_acme',
          provider: 'OPENAI',
          keyId,
          maskedKey: `****${key.slice(-4)}`,
          health: 'INVALID_KEY',
          previousHealth: 'VALID',
          actorId: 'monitor',
        }),
      }),
    ]);
    // Its only key unusable and the fallback off: the account's AI tasks have no route, said once.
    expect(webhooksOf('ai_route.unavailable')).toEqual([
      expect.objectContaining({
        data: expect.objectContaining({
          accountId: 'acct_acme',
          provider: 'OPENAI',
          keyId,
          health: 'INVALID_KEY',
          actorId: 'monitor',
          reason: expect.stringMatching(/^AI tasks are paused because your OpenAI key was rejected/),
        }),
      }),
    ]);

    // The provider takes it back: VALID again, back in routing, one more event and webhook.
    app.providers.reset();
    await until(
      () => openAiKey(),
      (stored) => stored.health === 'VALID',
      WITHIN_AN_INTERVAL_MS,
    );
    const back = (await app.gql(AiSettingsDocument, {}, alice)).data!.aiSettings;
    expect(back.routes.map((route) => [route.status, route.keyId])).toEqual([
      ['BYOK_KEY', keyId],
      ['BYOK_KEY', keyId],
      ['BYOK_KEY', keyId],
    ]);
    await sleep(500);
    expect((await events()).filter((event) => event.action === 'HEALTH_CHANGED')).toEqual([
      expect.objectContaining({ actorId: 'monitor', health: 'VALID', previousHealth: 'INVALID_KEY' }),
      expect.objectContaining({ actorId: 'monitor', health: 'INVALID_KEY', previousHealth: 'VALID' }),
    ]);
    expect(webhooksOf('provider_key.health_changed').map((body) => body.data.health)).toEqual([
      'INVALID_KEY',
      'VALID',
    ]);
    expect(webhooksOf('ai_route.unavailable')).toHaveLength(1);

    // Many monitor tests within the minute, and still the admin's own test is allowed (the add used 1 of 2).
    const admin = await app.gql(TestProviderKeyDocument, { input: { provider: 'OPENAI' } }, alice);
    expect(admin.data?.testProviderKey).toMatchObject({ ok: true, health: 'VALID' });
    // The monitor's tests are the token-free list, never the billed chat endpoint; no key in the logs.
    expect(app.providers.requests.some((request) => request.url.includes('/chat/completions'))).toBe(false);
    expect(keyFragmentsIn(app.logs.join('\n'), key)).toEqual([]);
    expect(app.logs.join('\n')).toMatch(
      /"provider":"OPENAI","accountId":"acct_acme","keyId":"[^"]+","health":"INVALID_KEY","durationMs":\d+.*"msg":"key monitor: tested a key"/,
    );

    await app.gql(UpdateAiSettingsDocument, { input: { builtInFallback: true } }, alice);
    await app.gql(RemoveProviderKeyDocument, { provider: 'OPENAI' }, alice);
  });

  it("an admin's test that finds a key broken sends health_changed with the admin as the actor", async () => {
    receiver.reset();
    const key = makeKey(AiProvider.OPENAI, 'VALID', 12);
    await app.gql(AddProviderKeyDocument, { input: { provider: 'OPENAI', apiKey: key } }, gina);
    // The monitor's first test is an interval away: the admin's test is the one that sees the change.
    app.providers.answerAs(AiProvider.OPENAI, 'QUOTA');
    const tested = await app.gql(TestProviderKeyDocument, { input: { provider: 'OPENAI' } }, gina);
    expect(tested.data?.testProviderKey).toMatchObject({ ok: false, health: 'QUOTA_EXCEEDED' });
    app.providers.reset();
    const [changed] = await until(
      async () => webhooksOf('provider_key.health_changed'),
      (bodies) => bodies.length >= 1,
      5_000,
    );
    expect(changed.data).toMatchObject({
      accountId: 'acct_globex',
      provider: 'OPENAI',
      health: 'QUOTA_EXCEEDED',
      previousHealth: 'VALID',
      actorId: 'user_gina',
    });
    // The built-in fallback is on for this account: a route remains, nothing to say.
    expect(webhooksOf('ai_route.unavailable')).toEqual([]);
    await app.gql(RemoveProviderKeyDocument, { provider: 'OPENAI' }, gina);
  });

  it('keys of an account below GROWTH are kept but not tested, and show no nextCheckAt', async () => {
    const key = makeKey(AiProvider.ANTHROPIC, 'VALID', 13);
    const input = { provider: 'ANTHROPIC' as const, apiKey: key, verify: false };
    const added = await app.gql(AddProviderKeyDocument, { input }, gina);
    expect(added.errors).toBeUndefined();
    await app.dataSource.query("UPDATE accounts SET plan = 'STARTER' WHERE id = 'acct_globex'");
    // Due again at once: only the plan keeps the monitor away.
    await app.dataSource.query(
      "UPDATE provider_keys SET next_check_at = NULL WHERE account_id = 'acct_globex'",
    );
    const before = requestsWith(key);
    await sleep(WITHIN_AN_INTERVAL_MS);
    expect(requestsWith(key)).toBe(before);
    const [stored] = await keysOf(gina);
    expect(stored).toMatchObject({ provider: 'ANTHROPIC', nextCheckAt: null });

    // Back on GROWTH: tested within an interval.
    await app.dataSource.query("UPDATE accounts SET plan = 'GROWTH' WHERE id = 'acct_globex'");
    await until(
      async () => requestsWith(key),
      (count) => count > before,
      WITHIN_AN_INTERVAL_MS,
    );
    await app.gql(RemoveProviderKeyDocument, { provider: 'ANTHROPIC' }, gina);
  });
});
