import { ApolloClient, HttpLink, InMemoryCache } from '@apollo/client';
import { relayStylePagination } from '@apollo/client/utilities';

// One Apollo Client per sign-in. The token lives in this closure only: never in storage, a cookie or the
// URL, so it is gone with the tab, a reload or "Sign out". Objects are normalized by __typename and id
// (ProviderKey, ProviderOption, ProviderKeyEvent), so a mutation's answer updates every view of them.

export function createApiClient(token: string): ApolloClient {
  return new ApolloClient({
    link: new HttpLink({
      // Same origin (the page is served by the API itself): the CSP's connect-src 'self' allows nothing else.
      uri: '/graphql',
      // The bearer token is the only credential: no cookie goes along.
      credentials: 'omit',
      headers: { authorization: `Bearer ${token}` },
    }),
    cache: new InMemoryCache({
      typePolicies: {
        // "Load more" appends the next page; a refetch without `after` starts the list afresh.
        Query: { fields: { providerKeyEvents: relayStylePagination() } },
        // Singletons without an id: a refetch replaces their fields.
        Viewer: { merge: true },
        // One per account, so one entity (keyFields []): updateAiSettings' answer is the aiSettings query's.
        AiSettings: { keyFields: [] },
      },
    }),
  });
}
