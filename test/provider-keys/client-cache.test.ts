import { ApolloClient, HttpLink, InMemoryCache, Reference } from '@apollo/client';
import { firstValueFrom } from 'rxjs';
import { filter } from 'rxjs/operators';
import {
  AddProviderKeyDocument,
  AiProvidersWithKeysDocument,
  ProviderKeysDocument,
  RemoveProviderKeyDocument,
  RotateProviderKeyDocument,
  TestProviderKeyDocument,
} from '../generated/graphql';
import { AiProvider } from '../../src/providers/ai-provider.enum';
import { ProviderKey } from '../../src/provider-keys/provider-key.entity';
import { ProviderKeyEvent } from '../../src/provider-keys/provider-key-event.entity';
import { makeKey } from '../support/fake-providers';
import { describeEachDatabase } from '../support/test-app';

// The settings screen as a frontend builds it: Apollo Client's normalized cache (by __typename + id)
// over HTTP to the real service, the screen's queries watched, and each mutation's answer (plus the
// update function a real client writes for add and remove) keeping them right. No query is sent again.

const PROVIDER_ORDER = ['OPENAI', 'ANTHROPIC', 'GOOGLE_GEMINI', 'AZURE_OPENAI', 'MISTRAL'];

/** What the cache holds, without the __typename fields Apollo adds to every selection. */
const plain = <T>(value: T): T =>
  JSON.parse(JSON.stringify(value, (name, field) => (name === '__typename' ? undefined : field)));

describeEachDatabase("a client's normalized cache", (app) => {
  let alice: string;
  beforeAll(async () => {
    alice = await app().token('user_alice', 'acct_acme');
  });
  afterEach(async () => {
    await app().dataSource.getRepository(ProviderKey).clear();
    await app().dataSource.getRepository(ProviderKeyEvent).clear();
  });

  it('shows the key list and the dropdown keys right after add, test, rotate and remove, without a refetch', async () => {
    const sent: string[] = []; // the operations that reached the server through the client
    const countingFetch: typeof fetch = (input, init) => {
      sent.push(JSON.parse(init?.body as string).operationName);
      return fetch(input, init);
    };
    const client = new ApolloClient({
      cache: new InMemoryCache(),
      link: new HttpLink({
        uri: `${app().url}/graphql`,
        fetch: countingFetch,
        headers: { authorization: `Bearer ${alice}` },
      }),
    });
    const keysQuery = client.watchQuery({ query: ProviderKeysDocument });
    const dropdownQuery = client.watchQuery({ query: AiProvidersWithKeysDocument });
    const subscriptions = [keysQuery.subscribe(() => undefined), dropdownQuery.subscribe(() => undefined)];
    try {
      await firstValueFrom(keysQuery.pipe(filter((result) => result.dataState === 'complete')));
      await firstValueFrom(dropdownQuery.pipe(filter((result) => result.dataState === 'complete')));

      /** What the watched queries show now, and (asked out of band, not through the client) what is stored. */
      const screen = async () => {
        const keys = keysQuery.getCurrentResult();
        const dropdown = dropdownQuery.getCurrentResult();
        // Incomplete data is what makes a watched query go back to the server.
        if (keys.dataState !== 'complete' || dropdown.dataState !== 'complete')
          throw new Error(`cached data: ${keys.dataState}, ${dropdown.dataState}`);
        const stored = {
          keys: (await app().gql(ProviderKeysDocument, {}, alice)).data!.providerKeys,
          dropdown: (await app().gql(AiProvidersWithKeysDocument, {}, alice)).data!.aiProviders,
        };
        return {
          shown: plain({ keys: keys.data.providerKeys, dropdown: dropdown.data.aiProviders }),
          stored,
        };
      };
      const optionId = (provider: string) =>
        client.cache.identify({ __typename: 'ProviderOption', id: provider });

      // Add: the new key joins the list (in the dropdown's order) and its provider's dropdown entry.
      const add = (provider: 'OPENAI' | 'ANTHROPIC', apiKey: string, verify: boolean) =>
        client.mutate({
          mutation: AddProviderKeyDocument,
          variables: { input: { provider, apiKey, verify } },
          update(cache, { data }) {
            const key = data!.addProviderKey;
            cache.modify<{ providerKeys: Reference[] }>({
              fields: {
                providerKeys: (existing, { readField, toReference }) =>
                  [...existing, toReference(key)!].sort(
                    (a, b) =>
                      PROVIDER_ORDER.indexOf(readField<string>('provider', a)!) -
                      PROVIDER_ORDER.indexOf(readField<string>('provider', b)!),
                  ),
              },
            });
            cache.modify({
              id: optionId(key.provider),
              fields: { key: (_, { toReference }) => toReference(key), billingMode: () => key.billingMode },
            });
          },
        });
      const added = (await add('OPENAI', makeKey(AiProvider.OPENAI), false)).data!.addProviderKey;
      await add('ANTHROPIC', makeKey(AiProvider.ANTHROPIC), true);
      let { shown, stored } = await screen();
      expect(shown).toEqual(stored);
      expect(shown.keys.map(({ provider, health, version }) => ({ provider, health, version }))).toEqual([
        { provider: 'OPENAI', health: 'UNTESTED', version: 1 },
        { provider: 'ANTHROPIC', health: 'VALID', version: 1 },
      ]);
      expect(shown.dropdown[0]).toMatchObject({
        id: 'OPENAI',
        billingMode: 'BYOK',
        key: { id: added.id, health: 'UNTESTED' },
      });

      // Test the stored key: the answer's key updates the normalized entry, so both views show the new health.
      const tested = (
        await client.mutate({
          mutation: TestProviderKeyDocument,
          variables: { input: { provider: 'OPENAI' } },
        })
      ).data!.testProviderKey;
      expect(tested).toMatchObject({ health: 'VALID', key: { id: added.id, health: 'VALID' } });
      ({ shown, stored } = await screen());
      expect(shown).toEqual(stored);
      expect(shown.keys[0]).toMatchObject({
        id: added.id,
        health: 'VALID',
        lastTestedAt: tested.key!.lastTestedAt,
        lastTestMessage: tested.message,
      });
      expect(shown.dropdown[0].key).toMatchObject({ id: added.id, health: 'VALID' });

      // Rotate: the same id with a new version and last four.
      const next = makeKey(AiProvider.OPENAI, 'VALID', 4);
      await client.mutate({
        mutation: RotateProviderKeyDocument,
        variables: { input: { provider: 'OPENAI', apiKey: next, verify: false } },
      });
      ({ shown, stored } = await screen());
      expect(shown).toEqual(stored);
      expect(shown.keys[0]).toMatchObject({
        id: added.id,
        version: 2,
        maskedKey: `****${next.slice(-4)}`,
        health: 'UNTESTED',
      });
      expect(shown.dropdown[0].key).toMatchObject({
        id: added.id,
        version: 2,
        maskedKey: `****${next.slice(-4)}`,
      });

      // Remove: the payload's id names the entry to evict; the provider's dropdown entry falls back.
      await client.mutate({
        mutation: RemoveProviderKeyDocument,
        variables: { provider: 'OPENAI' },
        update(cache, { data }) {
          const { id, provider, billingMode } = data!.removeProviderKey;
          cache.evict({ id: cache.identify({ __typename: 'ProviderKey', id }) });
          cache.modify({
            id: optionId(provider),
            fields: { key: () => null, billingMode: () => billingMode },
          });
          cache.gc();
        },
      });
      ({ shown, stored } = await screen());
      expect(shown).toEqual(stored);
      expect(shown.keys.map((key) => key.provider)).toEqual(['ANTHROPIC']);
      expect(shown.dropdown[0]).toMatchObject({ id: 'OPENAI', billingMode: 'BUILT_IN', key: null });
      expect(client.cache.extract()).not.toHaveProperty(`ProviderKey:${added.id}`);

      // A watched query whose cached data went missing would fetch again by now.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(sent).toEqual([
        'ProviderKeys',
        'AiProvidersWithKeys',
        'AddProviderKey',
        'AddProviderKey',
        'TestProviderKey',
        'RotateProviderKey',
        'RemoveProviderKey',
      ]);
    } finally {
      subscriptions.forEach((subscription) => subscription.unsubscribe());
      client.stop();
    }
  });
});
