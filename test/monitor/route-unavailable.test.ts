import {
  AddProviderKeyDocument,
  RemoveProviderKeyDocument,
  TestProviderKeyDocument,
  UpdateAiSettingsDocument,
} from '../generated/graphql';
import { AiProvider } from '../../src/providers/ai-provider.enum';
import { makeKey } from '../support/fake-providers';
import { DATABASES, type DatabaseKind, startTestApp, type TestApp } from '../support/test-app';
import { SECRET, WebhookReceiver, verified } from '../support/webhook-receiver';

// ai_route.unavailable as the platform receives it: sent when a change leaves the account's AI tasks
// without a route (keys stored, none usable, built-in fallback off), whichever change it is (the
// fallback turned off, a key removed), and once per transition, not again while it lasts.

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(DATABASES)('ai_route.unavailable [%s]', (database: DatabaseKind) => {
  let receiver: WebhookReceiver;
  let app: TestApp;
  let alice: string;

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    app = await startTestApp(database, {
      env: {
        KEY_MONITOR: 'off',
        WEBHOOK_URL: receiver.url,
        WEBHOOK_SECRET: SECRET,
        TEST_RATE_LIMIT_PER_MINUTE: '100',
        INTERNAL_PORT: '0',
      },
      overrides: { webhookTiming: { pollMs: 50 } },
    });
    alice = await app.token('user_alice', 'acct_acme');
  });
  afterAll(async () => {
    await app?.stop();
    await receiver?.close();
  });

  /** Every webhook of `type` so far, once the dispatcher has had time to send what is due. */
  async function sent(type: string): Promise<Record<string, any>[]> {
    await sleep(500);
    return receiver.received.map(verified).filter((body) => body.type === type);
  }
  const fallback = async (on: boolean) => {
    const answer = await app.gql(UpdateAiSettingsDocument, { input: { builtInFallback: on } }, alice);
    expect(answer.errors).toBeUndefined();
  };

  it('is sent when the fallback is turned off with no usable key, and when removing the last usable one; once each', async () => {
    const openAi = makeKey(AiProvider.OPENAI, 'VALID', 31);
    await app.gql(AddProviderKeyDocument, { input: { provider: 'OPENAI', apiKey: openAi } }, alice);
    // The provider revokes it; the admin's test finds out. The fallback is on: a route remains.
    app.providers.answerAs(AiProvider.OPENAI, 'REVOKED');
    const tested = await app.gql(TestProviderKeyDocument, { input: { provider: 'OPENAI' } }, alice);
    expect(tested.data?.testProviderKey.health).toBe('INVALID_KEY');
    expect(await sent('ai_route.unavailable')).toEqual([]);

    // Turning the fallback off leaves no route.
    await fallback(false);
    const [lost] = await sent('ai_route.unavailable');
    expect(lost.data).toMatchObject({
      accountId: 'acct_acme',
      provider: 'OPENAI',
      maskedKey: `****${openAi.slice(-4)}`,
      health: 'INVALID_KEY',
      actorId: 'user_alice',
      reason: expect.stringMatching(/^AI tasks are paused because your OpenAI key was rejected by OpenAI/),
    });
    // Still none while it lasts: another failing test, another settings change, say nothing new.
    await app.gql(TestProviderKeyDocument, { input: { provider: 'OPENAI' } }, alice);
    await app.gql(
      UpdateAiSettingsDocument,
      { input: { providerOrder: ['ANTHROPIC', 'OPENAI', 'GOOGLE_GEMINI', 'AZURE_OPENAI', 'MISTRAL'] } },
      alice,
    );
    expect(await sent('ai_route.unavailable')).toHaveLength(1);

    // A working Anthropic key serves again; removing it leaves no route once more.
    await app.gql(
      AddProviderKeyDocument,
      { input: { provider: 'ANTHROPIC', apiKey: makeKey(AiProvider.ANTHROPIC, 'VALID', 32) } },
      alice,
    );
    expect(await sent('ai_route.unavailable')).toHaveLength(1);
    await app.gql(RemoveProviderKeyDocument, { provider: 'ANTHROPIC' }, alice);
    const both = await sent('ai_route.unavailable');
    expect(both).toHaveLength(2);
    expect(both[1].data).toMatchObject({ provider: 'OPENAI', health: 'INVALID_KEY', actorId: 'user_alice' });

    // Removing the last key: no key stored, so the built-in allocation serves, nothing to say.
    app.providers.reset();
    await app.gql(RemoveProviderKeyDocument, { provider: 'OPENAI' }, alice);
    expect(await sent('ai_route.unavailable')).toHaveLength(2);
    await fallback(true);
  });

  it("a pipeline's report of a refused key sends health_changed (actor service:<name>) and, with the fallback off, ai_route.unavailable", async () => {
    receiver.reset();
    const key = makeKey(AiProvider.MISTRAL, 'VALID', 33);
    const added = await app.gql(
      AddProviderKeyDocument,
      { input: { provider: 'MISTRAL', apiKey: key } },
      alice,
    );
    const keyId = added.data!.addProviderKey.id;
    await fallback(false);
    const token = await app.serviceToken('analysis', ['credentials:report']);
    const body = { accountId: 'acct_acme', keyId, keyVersion: 1, outcome: 'INVALID_KEY' };
    expect((await app.internal('/internal/v1/credentials/report', body, token)).status).toBe(204);
    expect((await app.internal('/internal/v1/credentials/report', body, token)).status).toBe(204);
    const changed = await sent('provider_key.health_changed');
    expect(changed.map((event) => event.data)).toEqual([
      expect.objectContaining({
        keyId,
        provider: 'MISTRAL',
        health: 'INVALID_KEY',
        previousHealth: 'VALID',
        actorId: 'service:analysis',
      }),
    ]);
    expect((await sent('ai_route.unavailable')).map((event) => event.data)).toEqual([
      expect.objectContaining({ keyId, actorId: 'service:analysis' }),
    ]);
    await fallback(true);
    await app.gql(RemoveProviderKeyDocument, { provider: 'MISTRAL' }, alice);
  });
});
