import type { ApolloCache, Reference } from '@apollo/client';
import { KeyUsageFieldsFragmentDoc, type AiProvider, type BillingMode } from './generated/graphql';
import { USAGE_DAYS } from './usage-chart';

// What an add or a remove changes beyond the object it answers with (test and rotate answer with the
// key itself, which the cache merges by id): the list of stored keys and the provider's dropdown entry.
// test/provider-keys/client-cache.test.ts shows these same updates against the real service.

const optionId = (cache: ApolloCache, provider: AiProvider) =>
  cache.identify({ __typename: 'ProviderOption', id: provider });

export function keyAdded(
  cache: ApolloCache,
  key: { id: string; provider: AiProvider; billingMode: BillingMode },
): void {
  const ref = { __typename: 'ProviderKey', id: key.id };
  // A new key has no use yet: said here, the usage chart's query stays complete and is not sent again.
  cache.writeFragment({
    id: cache.identify(ref),
    fragment: KeyUsageFieldsFragmentDoc,
    variables: { days: USAGE_DAYS },
    data: { id: key.id, usage: [] },
  });
  cache.modify<{ providerKeys: Reference[] }>({
    fields: {
      providerKeys: (existing, { readField, toReference }) =>
        existing.some((entry) => readField('id', entry) === key.id)
          ? existing
          : [...existing, toReference(ref)!],
    },
  });
  cache.modify({
    id: optionId(cache, key.provider),
    fields: { key: (_, { toReference }) => toReference(ref), billingMode: () => key.billingMode },
  });
}

export function keyRemoved(
  cache: ApolloCache,
  removed: { id: string; provider: AiProvider; billingMode: BillingMode },
): void {
  // Evicted, the key drops out of every list that referred to it (dangling references are not read).
  cache.evict({ id: cache.identify({ __typename: 'ProviderKey', id: removed.id }) });
  cache.modify({
    id: optionId(cache, removed.provider),
    fields: { key: () => null, billingMode: () => removed.billingMode },
  });
  cache.gc();
}
