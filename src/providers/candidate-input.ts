import { ProviderInputError } from './input-error';
import type { CandidateInput, KeyCandidate, ProviderAdapter } from './provider-adapter';

// Input checks shared by the adapters, run before any network call. Messages say what to fix and
// never quote the key: a rejected paste is often a different secret (a password, another key).

const MIN_KEY_LENGTH = 20;
const MAX_KEY_LENGTH = 512;

type KeyRules = Pick<ProviderAdapter, 'displayName' | 'keyPrefix'>;

/** Returns the trimmed key or throws ProviderInputError. */
export function readApiKey(adapter: KeyRules, raw: string): string {
  const prefix = adapter.keyPrefix;
  const key = raw.trim();
  if (!key) throw new ProviderInputError('Enter the API key.', 'apiKey');
  if (/[\s\p{Cc}\p{Cf}]/u.test(key)) {
    throw new ProviderInputError(
      'The API key contains spaces, line breaks or invisible characters: paste it again as one unbroken line.',
      'apiKey',
    );
  }
  // Keys are printable ASCII everywhere; anything else cannot even be sent in an HTTP header.
  if (/[^\x21-\x7e]/.test(key)) {
    throw new ProviderInputError(
      "The API key contains characters that API keys never have: copy it again from the provider's console.",
      'apiKey',
    );
  }
  if (key.length < MIN_KEY_LENGTH || key.length > MAX_KEY_LENGTH) {
    throw new ProviderInputError(
      `The API key must be ${MIN_KEY_LENGTH} to ${MAX_KEY_LENGTH} characters long: copy the whole key again.`,
      'apiKey',
    );
  }
  if (prefix && !key.startsWith(prefix)) {
    throw new ProviderInputError(
      `${adapter.displayName} API keys start with "${prefix}": paste the secret key itself, not its name or ID.`,
      'apiKey',
    );
  }
  return key;
}

/** Empty strings count as absent: forms send "" for fields the user left blank. */
export function optionalText(value: string | null | undefined): string | null {
  const trimmed = value?.trim();
  return trimmed ? trimmed : null;
}

/** For the hosted providers: validates the key and refuses the Azure-only fields. */
export function hostedCandidate(adapter: KeyRules, input: CandidateInput): KeyCandidate {
  const name = adapter.displayName;
  if (optionalText(input.endpoint) !== null) {
    throw new ProviderInputError(
      `An endpoint is only used with Azure OpenAI keys: leave it empty for ${name}.`,
      'endpoint',
    );
  }
  if (optionalText(input.deployment) !== null) {
    throw new ProviderInputError(
      `A deployment is only used with Azure OpenAI keys: leave it empty for ${name}.`,
      'deployment',
    );
  }
  const apiKey = readApiKey(adapter, input.apiKey);
  return { provider: input.provider, apiKey, endpoint: null, deployment: null };
}
