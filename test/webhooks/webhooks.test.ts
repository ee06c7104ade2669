import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  AddProviderKeyDocument,
  RemoveProviderKeyDocument,
  RotateProviderKeyDocument,
} from '../generated/graphql';
import { AiProvider } from '../../src/providers/ai-provider.enum';
import { WebhookDelivery } from '../../src/webhooks/webhook-delivery.entity';
import type { WebhookTiming } from '../../src/webhooks/webhook-dispatcher';
import { WebhookOutbox } from '../../src/webhooks/webhook-outbox.store';
import { inTransaction } from '../../src/db/transaction';
import { makeKey } from '../support/fake-providers';
import { keyFragmentsIn } from '../support/key-fragments';
import { distEntry } from '../support/processes';
import { DATABASES, type DatabaseKind, startTestApp, type TestApp } from '../support/test-app';
import { SECRET, WebhookReceiver, verified, verifiedWith } from '../support/webhook-receiver';

// Webhooks to the platform, as the platform receives them: a receiver on loopback, the real service on
// both databases, changes made through GraphQL. Delays are the contract's schedule scaled down
// (AppOverrides.webhookTiming): retries after 100 ms, then 400 ms, for 1.5 s in all.

const FAST: Partial<WebhookTiming> = {
  pollMs: 50,
  firstRetryMs: 100,
  maxRetryMs: 400,
  giveUpAfterMs: 1_500,
  leaseMs: 1_000,
  timeoutMs: 1_000,
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function outboxRows(app: TestApp): Promise<WebhookDelivery[]> {
  return app.dataSource.getRepository(WebhookDelivery).find();
}

/** Waits until every event is acknowledged (its row deleted). */
async function drained(app: TestApp, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await outboxRows(app)).length > 0) {
    if (Date.now() > deadline) throw new Error('the outbox did not drain');
    await sleep(25);
  }
}

describe.each(DATABASES)('Webhooks to the platform [%s]', (database: DatabaseKind) => {
  let receiver: WebhookReceiver;
  let app: TestApp;
  let alice: string;
  const env = () => ({
    WEBHOOK_URL: receiver.url,
    WEBHOOK_SECRET: SECRET,
    TEST_RATE_LIMIT_PER_MINUTE: '1000',
  });

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    app = await startTestApp(database, { env: env(), overrides: { webhookTiming: FAST } });
    alice = await app.token('user_alice', 'acct_acme');
  });
  afterAll(async () => {
    const fake = app?.providers;
    await app?.stop();
    await fake?.close();
    await receiver?.close();
  });
  beforeEach(() => receiver.reset());

  /** Stops the service and starts another on the same database, data directory and fakes. */
  async function restart(): Promise<void> {
    await app.stop(true);
    app = await startTestApp(database, {
      env: env(),
      overrides: { webhookTiming: FAST },
      providers: app.providers,
      dataDir: app.dataDir,
      databaseUrl: app.env.DATABASE_URL,
    });
  }

  const add = (provider: AiProvider, apiKey: string) =>
    app.gql(AddProviderKeyDocument, { input: { provider, apiKey } }, alice);
  const remove = (provider: AiProvider) => app.gql(RemoveProviderKeyDocument, { provider }, alice);

  it('add, rotate and remove each send one event, signed so that the standardwebhooks package verifies it', async () => {
    const first = makeKey(AiProvider.OPENAI, 'VALID', 1);
    const second = makeKey(AiProvider.OPENAI, 'VALID', 2);
    const added = await add(AiProvider.OPENAI, first);
    const keyId = added.data?.addProviderKey.id;
    expect(keyId).toBeDefined();
    await receiver.waitFor(1);
    await app.gql(RotateProviderKeyDocument, { input: { provider: 'OPENAI', apiKey: second } }, alice);
    await receiver.waitFor(2);
    await remove(AiProvider.OPENAI);
    const [a, r, d] = await receiver.waitFor(3);

    const common = { accountId: 'acct_acme', provider: 'OPENAI', keyId, actorId: 'user_alice' };
    expect(verified(a)).toEqual({
      type: 'provider_key.added',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      data: {
        ...common,
        maskedKey: `****${first.slice(-4)}`,
        health: 'VALID',
        previousHealth: null,
        version: 1,
      },
    });
    expect(verified(r)).toMatchObject({
      type: 'provider_key.rotated',
      data: {
        ...common,
        maskedKey: `****${second.slice(-4)}`,
        health: 'VALID',
        previousHealth: 'VALID',
        version: 2,
      },
    });
    expect(verified(d)).toMatchObject({
      type: 'provider_key.removed',
      data: {
        ...common,
        maskedKey: `****${second.slice(-4)}`,
        health: null,
        previousHealth: 'VALID',
        version: 2,
      },
    });
    // Standard Webhooks' headers; an id per event; a signature that another secret does not verify.
    const ids = [a, r, d].map((delivery) => delivery.headers['webhook-id']);
    expect(new Set(ids).size).toBe(3);
    for (const delivery of [a, r, d]) {
      expect(delivery.path).toBe('/hooks');
      expect(delivery.headers['content-type']).toBe('application/json');
      expect(delivery.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
      expect(Math.abs(Number(delivery.headers['webhook-timestamp']) * 1000 - delivery.at)).toBeLessThan(
        5_000,
      );
      const other = `whsec_${Buffer.from('another-secret-of-thirty-two-by!').toString('base64')}`;
      expect(() => verifiedWith(other, delivery)).toThrow();
      // No key material in the body or the headers (the masked last four are below five characters).
      const seen = delivery.body + JSON.stringify(delivery.headers);
      expect({ first: keyFragmentsIn(seen, first), second: keyFragmentsIn(seen, second) }).toEqual({
        first: [],
        second: [],
      });
    }
    await drained(app);
  });

  it('a change that is refused sends nothing', async () => {
    const key = makeKey(AiProvider.MISTRAL, 'VALID', 3);
    await add(AiProvider.MISTRAL, key);
    await receiver.waitFor(1);
    const again = await add(AiProvider.MISTRAL, makeKey(AiProvider.MISTRAL, 'VALID', 4));
    expect(again.errors?.[0].extensions?.code).toBe('PROVIDER_KEY_EXISTS');
    await sleep(300);
    expect(receiver.received).toHaveLength(1);
    expect(await outboxRows(app)).toEqual([]);
    await remove(AiProvider.MISTRAL);
    await receiver.waitFor(2);
    await drained(app);
  });

  it('a receiver that answers 500 twice, then 200, gets the same event three times, later each time', async () => {
    receiver.reply = (_request, index) => (index < 2 ? 500 : 200);
    await add(AiProvider.ANTHROPIC, makeKey(AiProvider.ANTHROPIC, 'VALID', 5));
    const attempts = await receiver.waitFor(3);
    expect(new Set(attempts.map((attempt) => attempt.headers['webhook-id'])).size).toBe(1);
    expect(new Set(attempts.map((attempt) => attempt.body)).size).toBe(1);
    for (const attempt of attempts) expect(verified(attempt).type).toBe('provider_key.added');
    // Growing delays: 100 ms, then 400 ms (the contract's 30 s, then 2 min, scaled down).
    expect(attempts[1].at - attempts[0].at).toBeGreaterThanOrEqual(90);
    expect(attempts[2].at - attempts[1].at).toBeGreaterThanOrEqual(390);
    await drained(app);
    await sleep(300);
    expect(receiver.received).toHaveLength(3); // acknowledged: never sent again
    expect(app.logs.join('\n')).toMatch(/"reason":"HTTP 500".*"msg":"webhook delivery failed; will retry"/);
    receiver.reply = () => 200;
    await remove(AiProvider.ANTHROPIC);
    await receiver.waitFor(4);
    await drained(app);
  });

  it('a redirect is not followed (its target sees nothing), and the event is tried again', async () => {
    receiver.reply = (_request, index) => (index === 0 ? 'redirect' : 200);
    await add(AiProvider.GOOGLE_GEMINI, makeKey(AiProvider.GOOGLE_GEMINI, 'VALID', 6));
    const [redirected, retried] = await receiver.waitFor(2);
    expect(retried.headers['webhook-id']).toBe(redirected.headers['webhook-id']);
    await drained(app);
    expect(receiver.redirected).toEqual([]);
    expect(app.logs.join('\n')).toMatch(/"reason":"HTTP 302: a redirect, not followed"/);
    await remove(AiProvider.GOOGLE_GEMINI);
    await receiver.waitFor(3);
    await drained(app);
  });

  it('an attempt without an answer within the timeout is tried again', async () => {
    receiver.reply = (_request, index) => (index === 0 ? 'hang' : 200);
    await add(AiProvider.GOOGLE_GEMINI, makeKey(AiProvider.GOOGLE_GEMINI, 'VALID', 7));
    const [hung, retried] = await receiver.waitFor(2, 5_000);
    expect(retried.headers['webhook-id']).toBe(hung.headers['webhook-id']);
    expect(retried.at - hung.at).toBeGreaterThanOrEqual(1_000 + 90); // the timeout, then the first delay
    await drained(app);
    await remove(AiProvider.GOOGLE_GEMINI);
    await receiver.waitFor(3);
    await drained(app);
  });

  it('a service restarted with events pending delivers them', async () => {
    receiver.reply = () => 503;
    await add(AiProvider.MISTRAL, makeKey(AiProvider.MISTRAL, 'VALID', 8));
    const [failed] = await receiver.waitFor(1);
    await restart(); // with the event still pending: the platform has not acknowledged it
    const pending = await outboxRows(app);
    expect(pending.map((row) => [row.id, row.status])).toEqual([[failed.headers['webhook-id'], 'pending']]);
    receiver.reply = () => 200;
    await drained(app);
    const delivered = receiver.received.at(-1)!;
    expect(delivered.headers['webhook-id']).toBe(failed.headers['webhook-id']);
    expect(verified(delivered).type).toBe('provider_key.added');
    await remove(AiProvider.MISTRAL);
    await drained(app);
  });

  it('stopping the service lets an attempt under way finish: acknowledged, never sent again', async () => {
    receiver.reply = () => ({ afterMs: 400, status: 200 });
    await add(AiProvider.MISTRAL, makeKey(AiProvider.MISTRAL, 'VALID', 9));
    await receiver.waitFor(1); // arrived; the answer comes 400 ms later
    await restart();
    expect(await outboxRows(app)).toEqual([]);
    await sleep(300);
    expect(receiver.received).toHaveLength(1);
    receiver.reply = () => 200;
    await remove(AiProvider.MISTRAL);
    await drained(app);
  });

  it('a claim left by a replica that died is taken over once its lease lapses', async () => {
    // The row exactly as a claim leaves it (token set, due again when the lease ends), whose replica
    // then died before it could acknowledge or release it.
    const leaseEnds = Date.now() + 800;
    await inTransaction(app.dataSource, async (manager) => {
      await new WebhookOutbox(app.dataSource).publish(manager, 'provider_key.removed', {
        accountId: 'acct_acme',
        provider: 'OPENAI' as AiProvider,
        keyId: 'key-of-the-dead-replica',
        maskedKey: '****0000',
        health: null,
        previousHealth: null,
        actorId: 'user_alice',
      });
      await manager.update(
        WebhookDelivery,
        { status: 'pending' },
        { claimToken: 'dead-replica', nextAttemptAt: new Date(leaseEnds) },
      );
    });
    await sleep(400);
    expect(receiver.received).toEqual([]);
    const [delivery] = await receiver.waitFor(1);
    expect(delivery.at).toBeGreaterThanOrEqual(leaseEnds - 20);
    expect(verified(delivery).data.keyId).toBe('key-of-the-dead-replica');
    await drained(app);
  });

  it('an event the receiver never takes is kept as failed after the retries, logged, and shown by webhooks:status', async () => {
    receiver.reply = () => 500;
    await add(AiProvider.OPENAI, makeKey(AiProvider.OPENAI, 'VALID', 10));
    const deadline = Date.now() + 5_000;
    let rows = await outboxRows(app);
    while (rows[0]?.status !== 'failed' && Date.now() < deadline) {
      await sleep(50);
      rows = await outboxRows(app);
    }
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: 'failed', lastError: 'HTTP 500', claimToken: null });
    // About 0, 100, 500, 900, 1300 ms, and the last at 1500 ms after the first (polling shifts them).
    expect(rows[0].attempts).toBeGreaterThanOrEqual(4);
    expect(receiver.received).toHaveLength(rows[0].attempts);
    expect(receiver.received.at(-1)!.at - receiver.received[0].at).toBeGreaterThanOrEqual(1_400);
    const failedLines = app.logs.filter((line) => line.includes('webhook delivery failed for good'));
    expect(failedLines).toHaveLength(1);
    expect(JSON.parse(failedLines[0])).toMatchObject({
      webhookId: rows[0].id,
      attempts: rows[0].attempts,
      reason: 'HTTP 500',
    });
    expect(failedLines[0]).not.toContain('payload');

    const status = await promisify(execFile)(process.execPath, [distEntry('cli/webhooks-status.js')], {
      env: { PATH: process.env.PATH, ...app.env, PORT: '0' },
    }).catch((error: { code: number; stdout: string }) => error);
    expect(status).toMatchObject({ code: 2 });
    expect(status.stdout).toMatch(/^Webhooks: on/);
    expect(status.stdout).toMatch(/pending \(to deliver or retry\): 0\n/);
    expect(status.stdout).toMatch(/failed \(retried for 24 h, kept\): 1, the oldest from \d+ s ago\n/);
  });
});

describe.each(DATABASES)('Without WEBHOOK_URL [%s]', (database: DatabaseKind) => {
  it('queues nothing', async () => {
    const app = await startTestApp(database);
    try {
      const alice = await app.token('user_alice', 'acct_acme');
      const added = await app.gql(
        AddProviderKeyDocument,
        { input: { provider: 'OPENAI', apiKey: makeKey(AiProvider.OPENAI) } },
        alice,
      );
      expect(added.errors).toBeUndefined();
      expect(await outboxRows(app)).toEqual([]);
    } finally {
      await app.stop();
    }
  });
});
