import {
  AddProviderKeyDocument,
  ProviderKeyEventsDocument,
  ProviderKeysDocument,
  RotateProviderKeyDocument,
  TestProviderKeyDocument,
  UpdateProviderKeyDocument,
} from '../generated/graphql';
import { AiProvider } from '../../src/providers/ai-provider.enum';
import { requiredModels } from '../../src/providers/model-catalog';
import { ProviderKey } from '../../src/provider-keys/provider-key.entity';
import { ProviderKeyEvent } from '../../src/provider-keys/provider-key-event.entity';
import { makeKey } from '../support/fake-providers';
import { describeEachDatabase } from '../support/test-app';

// What describes a stored key besides the key: its label and expiry (updateProviderKey, and expiresAt
// on add and rotate), and the models its last passing test listed (availableModels).

const { OPENAI, ANTHROPIC } = AiProvider;
const clock = { at: Date.parse('2026-12-02T10:00:00Z') };
const hours = (count: number) => new Date(clock.at + count * 3_600_000).toISOString();

describeEachDatabase(
  'key details',
  (app) => {
    let alice: string;
    let bob: string;
    beforeAll(async () => {
      alice = await app().token('user_alice', 'acct_acme');
      bob = await app().token('user_bob', 'acct_acme');
    });
    afterEach(async () => {
      await app().dataSource.getRepository(ProviderKey).clear();
      await app().dataSource.getRepository(ProviderKeyEvent).clear();
      app().providers.reset();
    });

    const add = async (input: Record<string, unknown> = {}) => {
      const added = await app().gql(
        AddProviderKeyDocument,
        { input: { provider: OPENAI, apiKey: makeKey(OPENAI), ...input } },
        alice,
      );
      expect(added.errors).toBeUndefined();
      return added.data!.addProviderKey;
    };
    const update = (input: Record<string, unknown>, token = alice) =>
      app().gql(UpdateProviderKeyDocument, { input: { provider: OPENAI, ...input } }, token);
    const stored = async () => (await app().gql(ProviderKeysDocument, {}, alice)).data!.providerKeys[0];
    const actions = async () =>
      (await app().gql(ProviderKeyEventsDocument, { first: 50 }, alice)).data!.providerKeyEvents.edges.map(
        ({ node }) => node.action,
      );

    it('changes the label and the expiry, each alone, with an UPDATED event, never the key', async () => {
      const added = await add({ label: 'Production', expiresAt: hours(48) });
      expect(added).toMatchObject({ label: 'Production', expiresAt: hours(48) });

      const relabeled = await update({ label: '  Research  ' });
      expect(relabeled.errors).toBeUndefined();
      expect(relabeled.data!.updateProviderKey).toMatchObject({
        label: 'Research',
        expiresAt: hours(48),
        maskedKey: added.maskedKey,
        version: 1,
      });
      await update({ expiresAt: hours(2) });
      expect(await stored()).toMatchObject({ label: 'Research', expiresAt: hours(2), version: 1 });
      await update({ label: null, expiresAt: null });
      expect(await stored()).toMatchObject({ label: null, expiresAt: null });
      expect(await actions()).toEqual(['UPDATED', 'UPDATED', 'UPDATED', 'ADDED']);
    });

    it.each([
      [
        'an expiry that has passed',
        { expiresAt: hours(-1) },
        'expiresAt must lie in the future (it is 2026-12-02T10:00:00.000Z now): give a later time, or none for a key that does not expire.',
      ],
      [
        'nothing to change',
        {},
        'Give label or expiresAt (or both) to change; the key itself changes by rotation.',
      ],
    ])('refuses %s with BAD_USER_INPUT, changing nothing', async (_what, input, message) => {
      await add({ expiresAt: hours(5) });
      const before = await stored();
      const refused = await update(input);
      expect(refused.errors?.[0]).toMatchObject({ message, extensions: { code: 'BAD_USER_INPUT' } });
      expect(await stored()).toEqual(before);
      expect(await actions()).toEqual(['ADDED']);
    });

    it('refuses a member and a provider without a key', async () => {
      await add();
      expect((await update({ label: 'x' }, bob)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
      const missing = await app().gql(
        UpdateProviderKeyDocument,
        { input: { provider: ANTHROPIC, label: 'x' } },
        alice,
      );
      expect(missing.errors?.[0]).toMatchObject({
        message: 'No key for Anthropic is stored for this account.',
        extensions: { code: 'PROVIDER_KEY_NOT_FOUND' },
      });
      expect(await actions()).toEqual(['ADDED']);
    });

    it('refuses an expiry in the past on add and rotate, writing nothing', async () => {
      const refusedAdd = await app().gql(
        AddProviderKeyDocument,
        { input: { provider: OPENAI, apiKey: makeKey(OPENAI), expiresAt: hours(0) } },
        alice,
      );
      expect(refusedAdd.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'expiresAt' });
      expect(app().providers.requests).toHaveLength(0); // refused before any connection test
      await add({ expiresAt: hours(5) });
      const refusedRotate = await app().gql(
        RotateProviderKeyDocument,
        { input: { provider: OPENAI, apiKey: makeKey(OPENAI, 'VALID', 3), expiresAt: hours(-2) } },
        alice,
      );
      expect(refusedRotate.errors?.[0].extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        field: 'expiresAt',
      });
      expect(await stored()).toMatchObject({ version: 1, expiresAt: hours(5) });
    });

    it("gives a rotated key its own expiry, or none: the old key's does not carry over", async () => {
      await add({ expiresAt: hours(5) });
      const rotate = (seed: number, extra: Record<string, unknown> = {}) =>
        app().gql(
          RotateProviderKeyDocument,
          { input: { provider: OPENAI, apiKey: makeKey(OPENAI, 'VALID', seed), ...extra } },
          alice,
        );
      expect((await rotate(1, { expiresAt: hours(9) })).data!.rotateProviderKey.expiresAt).toBe(hours(9));
      expect((await rotate(2)).data!.rotateProviderKey.expiresAt).toBeNull();
    });

    it('stores the model ids of each test of the stored key that reads a list; an unverified rotation clears them', async () => {
      const before = await add({ verify: false });
      expect(before.availableModels).toEqual([]);
      app().providers.listModels(OPENAI, [
        ...requiredModels(OPENAI),
        'gpt-4o',
        'gpt-4o',
        'ft:gpt-4.1:acme::x1',
      ]);
      await app().gql(TestProviderKeyDocument, { input: { provider: OPENAI } }, alice);
      const listed = [...requiredModels(OPENAI), 'gpt-4o', 'ft:gpt-4.1:acme::x1'];
      expect((await stored()).availableModels).toEqual(listed); // deduplicated, in the provider's order

      // A key that lists only some needed models still records them (and is VALID, not ok).
      app().providers.listModels(OPENAI, ['gpt-4.1', 'gpt-4o']);
      const partial = await app().gql(TestProviderKeyDocument, { input: { provider: OPENAI } }, alice);
      expect(partial.data!.testProviderKey).toMatchObject({ ok: false, health: 'VALID' });
      expect((await stored()).availableModels).toEqual(['gpt-4.1', 'gpt-4o']);

      // A candidate's test stores nothing; the stored key's list stays.
      await app().gql(
        TestProviderKeyDocument,
        { input: { provider: OPENAI, apiKey: makeKey(OPENAI, 'VALID', 4) } },
        alice,
      );
      expect((await stored()).availableModels).toEqual(['gpt-4.1', 'gpt-4o']);

      await app().gql(
        RotateProviderKeyDocument,
        { input: { provider: OPENAI, apiKey: makeKey(OPENAI, 'VALID', 5), verify: false } },
        alice,
      );
      expect((await stored()).availableModels).toEqual([]);
    });

    it('keeps the models when a later test of the stored key fails', async () => {
      await add();
      const listed = (await stored()).availableModels;
      expect(listed).toEqual(expect.arrayContaining(requiredModels(OPENAI)));
      app().providers.answerAs(OPENAI, 'REVOKED');
      await app().gql(TestProviderKeyDocument, { input: { provider: OPENAI } }, alice);
      expect(await stored()).toMatchObject({ health: 'INVALID_KEY', availableModels: listed });
    });
  },
  { env: { TEST_RATE_LIMIT_PER_MINUTE: '1000' }, overrides: { now: () => new Date(clock.at) } },
);
