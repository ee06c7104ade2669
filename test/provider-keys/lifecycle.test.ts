import {
  AddProviderKeyDocument,
  ProviderKeyEventsDocument,
  ProviderKeysDocument,
  RemoveProviderKeyDocument,
  RotateProviderKeyDocument,
  TestProviderKeyDocument,
} from '../generated/graphql';
import { Account } from '../../src/accounts/account.entity';
import { Plan } from '../../src/accounts/plan.enum';
import { AiProvider } from '../../src/providers/ai-provider.enum';
import { ProviderKey } from '../../src/provider-keys/provider-key.entity';
import { ProviderKeyEvent } from '../../src/provider-keys/provider-key-event.entity';
import { makeKey } from '../support/fake-providers';
import { describeEachDatabase } from '../support/test-app';

describeEachDatabase('managing provider keys', (app) => {
  let alice: string;
  beforeAll(async () => {
    alice = await app().token('user_alice', 'acct_acme');
  });
  afterEach(async () => {
    await app().dataSource.getRepository(ProviderKey).clear();
    await app().dataSource.getRepository(ProviderKeyEvent).clear();
    await app().dataSource.getRepository(Account).update({ id: 'acct_acme' }, { plan: Plan.GROWTH });
    app().providers.reset();
  });

  const add = (apiKey: string, extra: Record<string, unknown> = {}) =>
    app().gql(AddProviderKeyDocument, { input: { provider: 'OPENAI', apiKey, ...extra } }, alice);

  it('adds a verified key, shows only its last four, and lists it as BYOK', async () => {
    const apiKey = makeKey(AiProvider.OPENAI);
    const added = await add(`  ${apiKey}\n`, { label: ' Production ' });
    expect(added.errors).toBeUndefined();
    expect(added.data?.addProviderKey).toMatchObject({
      provider: 'OPENAI',
      maskedKey: `****${apiKey.slice(-4)}`,
      label: 'Production',
      health: 'VALID',
      billingMode: 'BYOK',
      version: 1,
      createdBy: 'user_alice',
      endpoint: null,
      deployment: null,
    });
    const { lastTestedAt, createdAt, updatedAt } = added.data!.addProviderKey;
    expect(Date.parse(lastTestedAt!) % 1000).toBe(0); // kept to the second, on both databases
    expect(Math.abs(Date.parse(lastTestedAt!) - Date.now())).toBeLessThan(10_000);
    expect(updatedAt).toBe(createdAt);
    expect(added.data?.addProviderKey.lastTestMessage).toEqual(expect.any(String));
    expect(app().providers.requests).toHaveLength(1);
    expect(app().providers.requests[0].headers.authorization).toBe(`Bearer ${apiKey}`);

    const listed = await app().gql(ProviderKeysDocument, {}, alice);
    expect(listed.data?.providerKeys).toEqual([added.data?.addProviderKey]);
  });

  it('refuses a second key for the same provider with PROVIDER_KEY_EXISTS and writes nothing', async () => {
    await add(makeKey(AiProvider.OPENAI), { verify: false });
    const again = await add(makeKey(AiProvider.OPENAI, 'VALID', 1), { verify: false });
    expect(again.errors?.[0].extensions?.code).toBe('PROVIDER_KEY_EXISTS');
    expect(again.errors?.[0].message).toMatch(/rotate/);
    expect(await app().dataSource.getRepository(ProviderKey).count()).toBe(1);
    expect(await app().dataSource.getRepository(ProviderKeyEvent).count()).toBe(1);
  });

  it('saves nothing when verification fails: KEY_REJECTED with the health and our message', async () => {
    const result = await add(makeKey(AiProvider.OPENAI, 'REVOKED'));
    expect(result.data).toBeNull();
    expect(result.errors?.[0].extensions).toMatchObject({
      code: 'KEY_REJECTED',
      health: 'INVALID_KEY',
      message: expect.stringMatching(/rejected/),
    });
    expect(await app().dataSource.getRepository(ProviderKey).count()).toBe(0);
    expect(await app().dataSource.getRepository(ProviderKeyEvent).count()).toBe(0);

    const missing = await add(makeKey(AiProvider.OPENAI, 'NOMODEL'));
    expect(missing.errors?.[0].extensions).toMatchObject({
      code: 'KEY_REJECTED',
      health: 'VALID',
      missingModels: [expect.any(String)],
    });
  });

  it('saves without a test when verify is false, as UNTESTED and without a network call', async () => {
    const result = await add(makeKey(AiProvider.OPENAI, 'REVOKED'), { verify: false });
    expect(result.data?.addProviderKey).toMatchObject({
      health: 'UNTESTED',
      lastTestedAt: null,
      lastTestMessage: null,
    });
    expect(app().providers.requests).toHaveLength(0);
  });

  it('answers BAD_USER_INPUT for a malformed key or Azure fields on another provider, writing nothing', async () => {
    const noPrefix = await add('pk-' + '1'.repeat(40), { verify: false });
    expect(noPrefix.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    const withEndpoint = await add(makeKey(AiProvider.OPENAI), {
      verify: false,
      endpoint: 'https://acme.openai.azure.com',
    });
    expect(withEndpoint.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    const longLabel = await add(makeKey(AiProvider.OPENAI), { verify: false, label: 'x'.repeat(101) });
    expect(longLabel.errors?.[0]).toMatchObject({
      message: expect.stringMatching(/label must be at most 100/),
      extensions: { code: 'BAD_USER_INPUT' },
    });
    expect(await app().dataSource.getRepository(ProviderKey).count()).toBe(0);
  });

  it('tests the stored key and records health, time, message and a TESTED event', async () => {
    await add(makeKey(AiProvider.OPENAI), { verify: false });
    const tested = await app().gql(TestProviderKeyDocument, { input: { provider: 'OPENAI' } }, alice);
    expect(tested.data?.testProviderKey).toMatchObject({
      provider: 'OPENAI',
      ok: true,
      health: 'VALID',
      missingModels: [],
    });
    const [key] = (await app().gql(ProviderKeysDocument, {}, alice)).data!.providerKeys;
    expect(key).toMatchObject({
      health: 'VALID',
      lastTestMessage: tested.data?.testProviderKey.message,
      version: 1,
    });
    expect(key.lastTestedAt).not.toBeNull();
    // The answer carries the stored key as it now is, so a client's cache needs no refetch.
    expect(tested.data?.testProviderKey.key).toEqual(key);
    const candidate = await app().gql(
      TestProviderKeyDocument,
      { input: { provider: 'OPENAI', apiKey: makeKey(AiProvider.OPENAI, 'REVOKED') } },
      alice,
    );
    expect(candidate.data?.testProviderKey).toMatchObject({ health: 'INVALID_KEY', key: null });
    const events = await app().gql(ProviderKeyEventsDocument, {}, alice);
    expect(events.data?.providerKeyEvents.edges.map((edge) => edge.node.action)).toEqual(['TESTED', 'ADDED']);
    expect(events.data?.providerKeyEvents.edges[0].node.health).toBe('VALID');

    const none = await app().gql(TestProviderKeyDocument, { input: { provider: 'MISTRAL' } }, alice);
    expect(none.errors?.[0].extensions?.code).toBe('PROVIDER_KEY_NOT_FOUND');
  });

  it('answers a test of the stored key with the key as stored now when a rotation landed during the test', async () => {
    await add(makeKey(AiProvider.OPENAI, 'DELAY500'), { verify: false }); // the provider answers after 500 ms
    const testing = app().gql(TestProviderKeyDocument, { input: { provider: 'OPENAI' } }, alice);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const next = makeKey(AiProvider.OPENAI, 'VALID', 7);
    const rotated = await app().gql(
      RotateProviderKeyDocument,
      { input: { provider: 'OPENAI', apiKey: next, verify: false } },
      alice,
    );
    expect(rotated.data?.rotateProviderKey).toMatchObject({ version: 2, health: 'UNTESTED' });

    const tested = (await testing).data!.testProviderKey;
    expect(tested).toMatchObject({ ok: true, health: 'VALID' }); // the old key's result, not recorded on the new one
    const [stored] = (await app().gql(ProviderKeysDocument, {}, alice)).data!.providerKeys;
    expect(stored).toMatchObject({ version: 2, health: 'UNTESTED', maskedKey: `****${next.slice(-4)}` });
    expect(tested.key).toEqual(stored);
  });

  it('rotates: version + 1, new last four, CONFLICT on a stale expectedVersion, BAD_USER_INPUT for the same key', async () => {
    const first = makeKey(AiProvider.OPENAI);
    const second = makeKey(AiProvider.OPENAI, 'VALID', 3);
    await add(first, { verify: false });
    const same = await app().gql(
      RotateProviderKeyDocument,
      { input: { provider: 'OPENAI', apiKey: first, verify: false } },
      alice,
    );
    expect(same.errors?.[0]).toMatchObject({
      extensions: { code: 'BAD_USER_INPUT' },
      message: expect.stringMatching(/same as the stored one/),
    });

    const rotated = await app().gql(
      RotateProviderKeyDocument,
      { input: { provider: 'OPENAI', apiKey: second, expectedVersion: 1 } },
      alice,
    );
    expect(rotated.errors).toBeUndefined();
    expect(rotated.data?.rotateProviderKey).toMatchObject({
      version: 2,
      maskedKey: `****${second.slice(-4)}`,
      health: 'VALID',
    });

    const stale = await app().gql(
      RotateProviderKeyDocument,
      { input: { provider: 'OPENAI', apiKey: makeKey(AiProvider.OPENAI, 'VALID', 5), expectedVersion: 1 } },
      alice,
    );
    expect(stale.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', currentVersion: 2 });
    expect((await app().gql(ProviderKeysDocument, {}, alice)).data?.providerKeys[0]).toMatchObject({
      version: 2,
      maskedKey: `****${second.slice(-4)}`,
    });

    const rejected = await app().gql(
      RotateProviderKeyDocument,
      { input: { provider: 'OPENAI', apiKey: makeKey(AiProvider.OPENAI, 'REVOKED') } },
      alice,
    );
    expect(rejected.errors?.[0].extensions).toMatchObject({ code: 'KEY_REJECTED', health: 'INVALID_KEY' });
    expect((await app().gql(ProviderKeysDocument, {}, alice)).data?.providerKeys[0].version).toBe(2);

    const missing = await app().gql(
      RotateProviderKeyDocument,
      { input: { provider: 'MISTRAL', apiKey: makeKey(AiProvider.MISTRAL) } },
      alice,
    );
    expect(missing.errors?.[0].extensions?.code).toBe('PROVIDER_KEY_NOT_FOUND');
  });

  it("removes: the removed key's id and BUILT_IN in the payload, the row and its key material gone, a REMOVED event", async () => {
    const apiKey = makeKey(AiProvider.OPENAI);
    const { id } = (await add(apiKey, { verify: false })).data!.addProviderKey;
    const removed = await app().gql(RemoveProviderKeyDocument, { provider: 'OPENAI' }, alice);
    expect(removed.data?.removeProviderKey).toEqual({ id, provider: 'OPENAI', billingMode: 'BUILT_IN' });
    expect((await app().gql(ProviderKeysDocument, {}, alice)).data?.providerKeys).toEqual([]);
    expect(await app().dataSource.getRepository(ProviderKey).count()).toBe(0);
    const events = (await app().gql(ProviderKeyEventsDocument, {}, alice)).data!.providerKeyEvents.edges.map(
      (edge) => edge.node,
    );
    expect(events[0]).toMatchObject({
      action: 'REMOVED',
      actorId: 'user_alice',
      maskedKey: `****${apiKey.slice(-4)}`,
      health: null,
    });

    const again = await app().gql(RemoveProviderKeyDocument, { provider: 'OPENAI' }, alice);
    expect(again.errors?.[0].extensions?.code).toBe('PROVIDER_KEY_NOT_FOUND');
  });

  it('pages the audit trail newest first with cursors', async () => {
    await add(makeKey(AiProvider.OPENAI), { verify: false });
    for (let i = 1; i <= 4; i++) {
      await app().gql(
        RotateProviderKeyDocument,
        { input: { provider: 'OPENAI', apiKey: makeKey(AiProvider.OPENAI, 'VALID', i), verify: false } },
        alice,
      );
    }
    const page1 = (await app().gql(ProviderKeyEventsDocument, { first: 2 }, alice)).data!.providerKeyEvents;
    expect(page1.edges.map((edge) => edge.node.action)).toEqual(['ROTATED', 'ROTATED']);
    expect(page1.pageInfo).toEqual({
      hasNextPage: true,
      endCursor: page1.edges[1].cursor,
      hasPreviousPage: false,
      startCursor: page1.edges[0].cursor,
    });
    const page2 = (
      await app().gql(ProviderKeyEventsDocument, { first: 2, after: page1.pageInfo.endCursor }, alice)
    ).data!.providerKeyEvents;
    const page3 = (
      await app().gql(ProviderKeyEventsDocument, { first: 2, after: page2.pageInfo.endCursor }, alice)
    ).data!.providerKeyEvents;
    expect(page3.edges.map((edge) => edge.node.action)).toEqual(['ADDED']);
    expect(page3.pageInfo).toEqual({
      hasNextPage: false,
      endCursor: page3.edges[0].cursor,
      hasPreviousPage: true,
      startCursor: page3.edges[0].cursor,
    });
    const past = (
      await app().gql(ProviderKeyEventsDocument, { first: 2, after: page3.pageInfo.endCursor }, alice)
    ).data!.providerKeyEvents;
    expect(past).toEqual({
      edges: [],
      pageInfo: { hasNextPage: false, endCursor: null, hasPreviousPage: true, startCursor: null },
    });
    // Newer events of another account do not count: its admin, given this cursor, has no previous page.
    const gina = await app().token('user_gina', 'acct_globex');
    const elsewhere = (
      await app().gql(ProviderKeyEventsDocument, { first: 2, after: page1.pageInfo.endCursor }, gina)
    ).data!.providerKeyEvents;
    expect(elsewhere.pageInfo).toEqual({
      hasNextPage: false,
      endCursor: null,
      hasPreviousPage: false,
      startCursor: null,
    });
    const ids = [...page1.edges, ...page2.edges, ...page3.edges].map((edge) => Number(edge.node.id));
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect(new Set(ids).size).toBe(5);

    const bad = await app().gql(ProviderKeyEventsDocument, { first: 2, after: 'not-a-cursor' }, alice);
    expect(bad.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    const tooMany = await app().gql(ProviderKeyEventsDocument, { first: 500 }, alice);
    expect(tooMany.errors?.[0].message).toMatch(/first must be between 1 and 100/);
  });

  it('keeps keys dormant below GROWTH: BUILT_IN, PLAN_UPGRADE_REQUIRED for add/rotate/test, remove still works', async () => {
    await add(makeKey(AiProvider.OPENAI), { verify: false });
    await app().dataSource.getRepository(Account).update({ id: 'acct_acme' }, { plan: Plan.STARTER });
    expect((await app().gql(ProviderKeysDocument, {}, alice)).data?.providerKeys[0].billingMode).toBe(
      'BUILT_IN',
    );
    const attempts = [
      await add(makeKey(AiProvider.ANTHROPIC), { provider: 'ANTHROPIC' }),
      await app().gql(TestProviderKeyDocument, { input: { provider: 'OPENAI' } }, alice),
      await app().gql(
        RotateProviderKeyDocument,
        { input: { provider: 'OPENAI', apiKey: makeKey(AiProvider.OPENAI, 'VALID', 2) } },
        alice,
      ),
    ];
    for (const attempt of attempts)
      expect(attempt.errors?.[0].extensions?.code).toBe('PLAN_UPGRADE_REQUIRED');
    expect(app().providers.requests).toHaveLength(0);

    await app().dataSource.getRepository(Account).update({ id: 'acct_acme' }, { plan: Plan.ENTERPRISE });
    expect((await app().gql(ProviderKeysDocument, {}, alice)).data?.providerKeys[0]).toMatchObject({
      billingMode: 'BYOK',
      version: 1,
    });

    await app().dataSource.getRepository(Account).update({ id: 'acct_acme' }, { plan: Plan.STARTER });
    const removed = await app().gql(RemoveProviderKeyDocument, { provider: 'OPENAI' }, alice);
    expect(removed.data?.removeProviderKey.billingMode).toBe('BUILT_IN');
  });
});
