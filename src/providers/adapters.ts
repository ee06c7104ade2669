import { AiProvider } from './ai-provider.enum';
import { anthropicAdapter } from './anthropic.adapter';
import { azureOpenAiAdapter } from './azure-openai.adapter';
import { geminiAdapter } from './gemini.adapter';
import { ProviderInputError } from './input-error';
import { mistralAdapter } from './mistral.adapter';
import { openAiAdapter } from './openai.adapter';
import type { CandidateInput, KeyCandidate, ProviderAdapter } from './provider-adapter';

// The one list of providers. Everything else iterates it: the dropdown and its order, the connection
// tester, the configuration of base URLs and of the built-in allocation, the messages.

export const PROVIDER_ADAPTERS: readonly ProviderAdapter[] = [
  openAiAdapter,
  anthropicAdapter,
  geminiAdapter,
  azureOpenAiAdapter,
  mistralAdapter,
];

const BY_PROVIDER: ReadonlyMap<string, ProviderAdapter> = new Map(
  PROVIDER_ADAPTERS.map((adapter) => [adapter.provider, adapter]),
);

export function adapterFor(provider: AiProvider): ProviderAdapter {
  const adapter = BY_PROVIDER.get(provider);
  if (!adapter) throw new ProviderInputError('Choose one of the supported AI providers.', 'provider');
  return adapter;
}

export const displayNameOf = (provider: AiProvider): string => adapterFor(provider).displayName;

/** Longest first: an Anthropic key ("sk-ant-") also starts with OpenAI's "sk-". */
const BY_PREFIX = PROVIDER_ADAPTERS.filter((adapter) => adapter.keyPrefix).sort(
  (a, b) => b.keyPrefix!.length - a.keyPrefix!.length,
);

/** Validates and trims what the customer typed; throws ProviderInputError naming the field to fix. */
export function normalizeCandidate(input: CandidateInput, allowlist: readonly string[]): KeyCandidate {
  const adapter = adapterFor(input.provider);
  // A key of another provider pasted under this one: name the provider it belongs to (its prefix is
  // public; the rest of the key is not quoted).
  const key = input.apiKey.trim();
  const owner = BY_PREFIX.find((other) => key.startsWith(other.keyPrefix!));
  if (owner && owner !== adapter) {
    const wanted = `${adapter.displayName} key${adapter.keyPrefix ? ` (it starts with "${adapter.keyPrefix}")` : ''}`;
    throw new ProviderInputError(
      `This looks like a key for ${owner.displayName} (it starts with "${owner.keyPrefix}"): choose ${owner.displayName} as the provider, or paste your ${wanted}.`,
      'apiKey',
    );
  }
  return adapter.normalize(input, allowlist);
}
