import {
  AddProviderKeyDocument,
  RemoveProviderKeyDocument,
  UpdateAiSettingsDocument,
  UpdateProviderKeyDocument,
} from '../generated/graphql';
import { AiProvider } from '../../src/providers/ai-provider.enum';
import { makeKey } from '../support/fake-providers';
import { DATABASES, type DatabaseKind, startTestApp, type TestApp } from '../support/test-app';
import { SECRET, WebhookReceiver, verified } from '../support/webhook-receiver';

// Expiry reminders as the platform receives them: provider_key.expiring 14 days and 1 day before a
// key's expiresAt, provider_key.expired then, each once, and again for a new expiry. The service's clock
// is moved (AppOverrides.now); the reminders are looked for every 360 ms (a tenth of 0.001 h).

const DAY_MS = 86_400_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(DATABASES)('Expiry reminders [%s]', (database: DatabaseKind) => {
  let receiver: WebhookReceiver;
  let app: TestApp;
  let alice: string;
  let offsetMs = 0;
  const clock = () => new Date(Date.now() + offsetMs);

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    app = await startTestApp(database, {
      env: {
        KEY_MONITOR: 'off',
        KEY_MONITOR_INTERVAL_HOURS: '0.001',
        WEBHOOK_URL: receiver.url,
        WEBHOOK_SECRET: SECRET,
      },
      overrides: { now: clock, webhookTiming: { pollMs: 50 } },
    });
    alice = await app.token('user_alice', 'acct_acme');
  });
  afterAll(async () => {
    await app?.stop();
    await receiver?.close();
  });

  const bodies = (type?: string) =>
    receiver.received.map(verified).filter((body) => type === undefined || body.type === type);
  /** Waits for the `count`-th webhook of `type`, then a few more sweeps, and returns all of that type. */
  async function settled(type: string, count: number): Promise<Record<string, any>[]> {
    const deadline = Date.now() + 10_000;
    while (bodies(type).length < count) {
      if (Date.now() > deadline) throw new Error(`expected ${count} ${type}, got ${bodies(type).length}`);
      await sleep(50);
    }
    await sleep(1_500); // four sweeps more: nothing is sent twice
    return bodies(type);
  }

  it('sends each reminder once: 14 days before, 1 day before, at the expiry; a new expiry starts over', async () => {
    const key = makeKey(AiProvider.OPENAI, 'VALID', 21);
    const expiresAt = new Date(Math.floor((clock().getTime() + 20 * DAY_MS) / 1000) * 1000);
    const added = await app.gql(
      AddProviderKeyDocument,
      { input: { provider: 'OPENAI', apiKey: key, expiresAt: expiresAt.toISOString() } },
      alice,
    );
    const keyId = added.data!.addProviderKey.id;
    await app.gql(UpdateAiSettingsDocument, { input: { builtInFallback: false } }, alice);
    await settled('provider_key.added', 1);
    expect(bodies('provider_key.expiring')).toEqual([]);

    const about = {
      accountId: 'acct_acme',
      provider: 'OPENAI',
      keyId,
      maskedKey: `****${key.slice(-4)}`,
      health: 'VALID',
      actorId: 'monitor',
      expiresAt: expiresAt.toISOString(),
    };
    offsetMs = 7 * DAY_MS; // 13 days left
    expect(await settled('provider_key.expiring', 1)).toEqual([
      {
        type: 'provider_key.expiring',
        timestamp: expect.any(String),
        data: { ...about, previousHealth: null, version: 1, daysBefore: 14 },
      },
    ]);

    offsetMs = 19.5 * DAY_MS; // half a day left
    const expiring = await settled('provider_key.expiring', 2);
    expect(expiring.map((body) => body.data.daysBefore)).toEqual([14, 1]);
    expect(bodies('provider_key.expired')).toEqual([]);

    offsetMs = 20 * DAY_MS + 5_000;
    expect(await settled('provider_key.expired', 1)).toEqual([
      {
        type: 'provider_key.expired',
        timestamp: expect.any(String),
        data: { ...about, previousHealth: null, version: 1 },
      },
    ]);
    // Its only key expired and the fallback off: no route, said once.
    expect(bodies('ai_route.unavailable')).toEqual([
      expect.objectContaining({
        data: expect.objectContaining({ keyId, reason: expect.stringMatching(/key expired at/) }),
      }),
    ]);
    expect(bodies('provider_key.expiring')).toHaveLength(2);

    // A new expiry, 10 hours away: its own reminders, the latest that applies (1 day), not the 14-day one.
    const later = new Date(Math.floor((clock().getTime() + 10 * 3_600_000) / 1000) * 1000);
    const updated = await app.gql(
      UpdateProviderKeyDocument,
      { input: { provider: 'OPENAI', expiresAt: later.toISOString() } },
      alice,
    );
    expect(updated.errors).toBeUndefined();
    const again = await settled('provider_key.expiring', 3);
    expect(again[2].data).toMatchObject({ keyId, daysBefore: 1, expiresAt: later.toISOString() });
    expect(bodies('provider_key.expired')).toHaveLength(1);

    await app.gql(UpdateAiSettingsDocument, { input: { builtInFallback: true } }, alice);
    await app.gql(RemoveProviderKeyDocument, { provider: 'OPENAI' }, alice);
  });
});
