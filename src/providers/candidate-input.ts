import { badUserInput } from '../graphql/errors';
import { AiProvider } from './ai-provider.enum';
import { MODEL_CATALOG } from './model-catalog';
import type { CandidateInput, KeyCandidate } from './provider-adapter';

// Input checks shared by the adapters, run before any network call. Messages say what to fix and
// never quote the key: a rejected paste is often a different secret (a password, another key).

const MIN_KEY_LENGTH = 20;
const MAX_KEY_LENGTH = 512;

/** The documented key prefixes (providers.md); Azure and Mistral keys have none. */
export const KEY_PREFIXES: Readonly<Partial<Record<AiProvider, string>>> = {
  [AiProvider.OPENAI]: 'sk-',
  [AiProvider.ANTHROPIC]: 'sk-ant-',
  [AiProvider.GOOGLE_GEMINI]: 'AIza',
};

/** Longest first: an Anthropic key also starts with OpenAI's "sk-". */
const PREFIXES_BY_LENGTH = (Object.entries(KEY_PREFIXES) as [AiProvider, string][]).sort(([, a], [, b]) => b.length - a.length);

/** Returns the trimmed key or throws BAD_USER_INPUT. */
export function readApiKey(provider: AiProvider, raw: string): string {
  const prefix = KEY_PREFIXES[provider];
  const key = raw.trim();
  if (!key) throw badUserInput('Enter the API key.', 'apiKey');
  if (/[\s\p{Cc}\p{Cf}]/u.test(key)) {
    throw badUserInput(
      'The API key contains spaces, line breaks or invisible characters: paste it again as one unbroken line.',
      'apiKey',
    );
  }
  // Keys are printable ASCII everywhere; anything else cannot even be sent in an HTTP header.
  if (/[^\x21-\x7e]/.test(key)) {
    throw badUserInput(
      'The API key contains characters that API keys never have: copy it again from the provider\'s console.',
      'apiKey',
    );
  }
  if (key.length < MIN_KEY_LENGTH || key.length > MAX_KEY_LENGTH) {
    throw badUserInput(
      `The API key must be ${MIN_KEY_LENGTH} to ${MAX_KEY_LENGTH} characters long: copy the whole key again.`,
      'apiKey',
    );
  }
  // A key of another provider, pasted under the wrong one: name the one it belongs to (its prefix is
  // public; the rest of the key is not quoted).
  const [lookalike, itsPrefix] = PREFIXES_BY_LENGTH.find(([, known]) => key.startsWith(known)) ?? [];
  if (lookalike && lookalike !== provider) {
    const name = MODEL_CATALOG[lookalike].displayName;
    const wanted = `${MODEL_CATALOG[provider].displayName} key${prefix ? ` (it starts with "${prefix}")` : ''}`;
    throw badUserInput(
      `This looks like a key for ${name} (it starts with "${itsPrefix}"): choose ${name} as the provider, or paste your ${wanted}.`,
      'apiKey',
    );
  }
  if (prefix && !key.startsWith(prefix)) {
    throw badUserInput(
      `${MODEL_CATALOG[provider].displayName} API keys start with "${prefix}": paste the secret key itself, not its name or ID.`,
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
export function hostedCandidate(input: CandidateInput): KeyCandidate {
  const name = MODEL_CATALOG[input.provider].displayName;
  if (optionalText(input.endpoint) !== null) {
    throw badUserInput(`An endpoint is only used with Azure OpenAI keys: leave it empty for ${name}.`, 'endpoint');
  }
  if (optionalText(input.deployment) !== null) {
    throw badUserInput(`A deployment is only used with Azure OpenAI keys: leave it empty for ${name}.`, 'deployment');
  }
  const apiKey = readApiKey(input.provider, input.apiKey);
  return { provider: input.provider, apiKey, endpoint: null, deployment: null };
}
