import { AiProvider } from '../../src/providers/ai-provider.enum';
import { inTransaction } from '../../src/db/transaction';
import { WebhookDelivery } from '../../src/webhooks/webhook-delivery.entity';
import { WebhookOutbox } from '../../src/webhooks/webhook-outbox.store';
import { startTestApp, type TestApp } from '../support/test-app';
import { SECRET, WebhookReceiver } from '../support/webhook-receiver';

// Several replicas on one MariaDB deliver the same outbox side by side: each event is claimed by one of
// them (SELECT … FOR UPDATE SKIP LOCKED), so the platform gets each exactly once while all are healthy.

const EVENTS = 40;

describe('Webhooks from two replicas on one MariaDB', () => {
  let receiver: WebhookReceiver;
  const apps: TestApp[] = [];

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    // Slow answers and small batches, so that both replicas hold claims at the same time.
    receiver.reply = () => ({ afterMs: 30, status: 200 });
    const options = {
      env: { WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: SECRET },
      overrides: { webhookTiming: { pollMs: 10, batchSize: 3 } },
    };
    apps.push(await startTestApp('mariadb', options));
    apps.push(
      await startTestApp('mariadb', {
        ...options,
        providers: apps[0].providers,
        dataDir: apps[0].dataDir,
        databaseUrl: apps[0].env.DATABASE_URL,
      }),
    );
  });
  afterAll(async () => {
    await apps[1]?.stop(true);
    await apps[0]?.stop();
    await receiver?.close();
  });

  it('delivers each of 40 events exactly once', async () => {
    const outbox = new WebhookOutbox(apps[0].dataSource);
    await inTransaction(apps[0].dataSource, async (manager) => {
      for (let i = 0; i < EVENTS; i++) {
        await outbox.publish(manager, 'provider_key.added', {
          accountId: 'acct_acme',
          provider: AiProvider.OPENAI,
          keyId: `key-${i}`,
          maskedKey: '****0000',
          health: null,
          previousHealth: null,
          actorId: 'user_alice',
        });
      }
    });
    await receiver.waitFor(EVENTS, 20_000);
    const deadline = Date.now() + 5_000;
    while ((await apps[0].dataSource.getRepository(WebhookDelivery).count()) > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    const ids = receiver.received.map((delivery) => String(delivery.headers['webhook-id']));
    expect(ids).toHaveLength(EVENTS);
    expect(new Set(ids).size).toBe(EVENTS);
    const keyIds = receiver.received.map(
      (delivery) => (JSON.parse(delivery.body) as { data: { keyId: string } }).data.keyId,
    );
    expect(keyIds.sort()).toEqual(Array.from({ length: EVENTS }, (_, i) => `key-${i}`).sort());
    expect(await apps[0].dataSource.getRepository(WebhookDelivery).count()).toBe(0);
    // Both took part (each logs what it delivered at debug level).
    for (const app of apps) {
      expect(app.logs.filter((line) => line.includes('"msg":"webhook delivered"')).length).toBeGreaterThan(0);
    }
  });
});
