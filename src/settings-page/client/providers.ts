import type { AiProvider, AiProvidersQuery } from './generated/graphql';

/** One entry of aiProviders: the provider's name, key hint and whether it needs an endpoint. */
export type ProviderOption = AiProvidersQuery['aiProviders'][number];

/** The provider's display name as the API gives it (aiProviders), for lists that carry only the enum. */
export const displayNameOf = (providers: readonly ProviderOption[], provider: AiProvider): string =>
  providers.find((option) => option.provider === provider)?.displayName ?? provider;
