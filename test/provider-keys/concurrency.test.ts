import crypto from 'node:crypto';
import {
  AddProviderKeyDocument,
  ProviderKeyEventsDocument,
  ProviderKeysDocument,
  RemoveProviderKeyDocument,
  RotateProviderKeyDocument,
  TestProviderKeyDocument,
} from '../generated/graphql';
import { ProviderKey } from '../../src/provider-keys/provider-key.entity';
import { ProviderKeyEvent } from '../../src/provider-keys/provider-key-event.entity';
import { describeEachDatabase } from '../support/test-app';

// Twenty admins rotating one key at once: every version has exactly one winner and no update is lost.
// Removals racing them: one removal wins, and its audit row names the key it removed. Removals racing
// re-adds: each answers the id of the key it removed, the one its audit row names.

const randomKey = () => `sk-proj-${crypto.randomBytes(40).toString('hex')}`;

describeEachDatabase('concurrent rotations', (app) => {
  let alice: string;
  beforeAll(async () => {
    alice = await app().token('user_alice', 'acct_acme');
  });
  beforeEach(async () => {
    await app().dataSource.getRepository(ProviderKey).clear();
    await app().dataSource.getRepository(ProviderKeyEvent).clear();
    await app().gql(
      AddProviderKeyDocument,
      { input: { provider: 'OPENAI', apiKey: randomKey(), verify: false } },
      alice,
    );
    app().providers.reset();
  });

  const rotateAll = (keys: string[], expectedVersion?: number) =>
    Promise.all(
      keys.map((apiKey) =>
        app().gql(
          RotateProviderKeyDocument,
          { input: { provider: 'OPENAI', apiKey, verify: false, expectedVersion } },
          alice,
        ),
      ),
    );

  it('without expectedVersion: all 20 land, one per version, and the stored key is the last one written', async () => {
    const keys = Array.from({ length: 20 }, randomKey);
    const results = await rotateAll(keys);
    expect(results.flatMap((result) => result.errors ?? [])).toEqual([]);
    const versions = results.map((result) => result.data!.rotateProviderKey.version).sort((a, b) => a - b);
    expect(versions).toEqual(Array.from({ length: 20 }, (_, i) => i + 2));

    const winner = keys[results.findIndex((result) => result.data!.rotateProviderKey.version === 21)];
    const [stored] = (await app().gql(ProviderKeysDocument, {}, alice)).data!.providerKeys;
    expect(stored).toMatchObject({ version: 21, maskedKey: `****${winner.slice(-4)}` });
    const events = (await app().gql(ProviderKeyEventsDocument, { first: 50 }, alice)).data!.providerKeyEvents
      .edges;
    expect(events.filter((edge) => edge.node.action === 'ROTATED')).toHaveLength(20);
    expect(events[0].node.maskedKey).toBe(`****${winner.slice(-4)}`);

    // The stored ciphertext really is the winner's key: the provider receives exactly it.
    await app().gql(TestProviderKeyDocument, { input: { provider: 'OPENAI' } }, alice);
    expect(app().providers.requests.map((request) => request.headers.authorization)).toEqual([
      `Bearer ${winner}`,
    ]);
  });

  it('with the same expectedVersion: exactly one wins, the other 19 get CONFLICT', async () => {
    const keys = Array.from({ length: 20 }, randomKey);
    const results = await rotateAll(keys, 1);
    const winners = results.filter((result) => !result.errors);
    expect(winners).toHaveLength(1);
    expect(winners[0].data!.rotateProviderKey.version).toBe(2);
    expect(results.filter((result) => result.errors?.[0].extensions?.code === 'CONFLICT')).toHaveLength(19);
    const winner = keys[results.indexOf(winners[0])];
    expect((await app().gql(ProviderKeysDocument, {}, alice)).data!.providerKeys[0]).toMatchObject({
      version: 2,
      maskedKey: `****${winner.slice(-4)}`,
    });
    expect(
      await app()
        .dataSource.getRepository(ProviderKeyEvent)
        .countBy({ action: 'ROTATED' as never }),
    ).toBe(1);
  });

  it('with removals racing the rotations: one removal wins, its audit row names the key it removed', async () => {
    const keys = Array.from({ length: 12 }, randomKey);
    const remove = () => app().gql(RemoveProviderKeyDocument, { provider: 'OPENAI' }, alice);
    const [rotations, removals] = await Promise.all([
      rotateAll(keys),
      Promise.all([remove(), remove(), remove()]),
    ]);

    expect(removals.filter((result) => !result.errors)).toHaveLength(1);
    expect(
      removals.filter((result) => result.errors?.[0].extensions?.code === 'PROVIDER_KEY_NOT_FOUND'),
    ).toHaveLength(2);
    // A rotation landed before the removal, or found no key after it.
    const landed = rotations.filter((result) => !result.errors);
    expect(
      rotations.filter((result) => result.errors?.[0].extensions?.code === 'PROVIDER_KEY_NOT_FOUND'),
    ).toHaveLength(keys.length - landed.length);
    expect((await app().gql(ProviderKeysDocument, {}, alice)).data!.providerKeys).toEqual([]);

    // The key removed is the last one stored: the highest version a rotation wrote, or the first key.
    const versions = landed.map((result) => result.data!.rotateProviderKey.version);
    expect([...versions].sort((a, b) => a - b)).toEqual(
      Array.from({ length: landed.length }, (_, i) => i + 2),
    );
    const last = landed.find((result) => result.data!.rotateProviderKey.version === landed.length + 1);
    const events = (
      await app().gql(ProviderKeyEventsDocument, { first: 50 }, alice)
    ).data!.providerKeyEvents.edges.map((edge) => edge.node);
    expect(events.map((event) => event.action)).toEqual([
      'REMOVED',
      ...versions.map(() => 'ROTATED'),
      'ADDED',
    ]);
    expect(events[0].maskedKey).toBe(
      last ? last.data!.rotateProviderKey.maskedKey : events.at(-1)!.maskedKey,
    );
  });

  it('with removals racing re-adds: each removal answers the id of the key it removed, which its audit row names', async () => {
    const lastFourById = new Map<string, string>();
    const [first] = (await app().gql(ProviderKeysDocument, {}, alice)).data!.providerKeys;
    lastFourById.set(first.id, first.maskedKey);
    const removedIds: string[] = [];
    const adder = async () => {
      for (let i = 0; i < 10; i++) {
        const added = await app().gql(
          AddProviderKeyDocument,
          { input: { provider: 'OPENAI', apiKey: randomKey(), verify: false } },
          alice,
        );
        if (added.data) lastFourById.set(added.data.addProviderKey.id, added.data.addProviderKey.maskedKey);
      }
    };
    const remover = async () => {
      for (let i = 0; i < 10; i++) {
        const removed = await app().gql(RemoveProviderKeyDocument, { provider: 'OPENAI' }, alice);
        if (removed.data) removedIds.push(removed.data.removeProviderKey.id);
      }
    };
    await Promise.all([adder(), adder(), remover(), remover(), remover()]);

    // Every key added was removed exactly once (by the removal that answered its id) or is still stored.
    const stored = (await app().gql(ProviderKeysDocument, {}, alice)).data!.providerKeys.map((key) => key.id);
    expect(removedIds.length).toBeGreaterThan(1);
    expect([...removedIds, ...stored].sort()).toEqual([...lastFourById.keys()].sort());
    // The removals' audit rows name exactly the keys whose ids the removals answered.
    const events = await app()
      .dataSource.getRepository(ProviderKeyEvent)
      .find({ where: { action: 'REMOVED' as never }, order: { id: 'ASC' } });
    expect(events.map((event) => `****${event.lastFour}`).sort()).toEqual(
      removedIds.map((id) => lastFourById.get(id)).sort(),
    );
  });
});
