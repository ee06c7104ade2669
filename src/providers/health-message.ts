import { AiProvider, KeyHealth } from './ai-provider.enum';
import { MODEL_CATALOG } from './model-catalog';

// The sentence a customer reads after a test. Always ours: provider texts echo keys and speak in
// terms the customer cannot act on. One sentence per health saying what to do next; a provider gets
// its own wording only where the fix differs (where to grant a permission, what an endpoint is).

type Phrase = (name: string) => string;

const GENERIC: Readonly<Record<KeyHealth, Phrase>> = {
  [KeyHealth.UNTESTED]: () => 'This key has not been tested yet.',
  [KeyHealth.VALID]: (name) => `${name} accepted this key, and it can use every model the platform needs.`,
  [KeyHealth.INVALID_KEY]: (name) =>
    `${name} rejected this key: check that you copied the whole key, including its prefix, and that it has not been revoked.`,
  [KeyHealth.INSUFFICIENT_PERMISSIONS]: (name) =>
    `${name} accepted this key but denied it access: check the permissions of the key and its workspace in the ${name} console.`,
  [KeyHealth.QUOTA_EXCEEDED]: (name) =>
    `The ${name} account behind this key has run out of credit or quota: add credit or raise its limit, then test again.`,
  [KeyHealth.RATE_LIMITED]: (name) =>
    `${name} is rate-limiting this key right now, so the test could not finish: wait a minute and test again.`,
  [KeyHealth.PROVIDER_UNREACHABLE]: (name) =>
    `We could not reach ${name}: try again in a minute, and check the provider's status page if it keeps failing.`,
  [KeyHealth.PROVIDER_ERROR]: (name) =>
    `${name} answered with an error we could not interpret: try again in a few minutes; the key itself may be fine.`,
};

const SPECIFIC: Readonly<Partial<Record<AiProvider, Partial<Record<KeyHealth, string>>>>> = {
  [AiProvider.OPENAI]: {
    [KeyHealth.INSUFFICIENT_PERMISSIONS]:
      'OpenAI accepted this key but it may not list models: give the restricted key Read access to Models (or use a key with All permissions) and check that your region is supported.',
  },
  [AiProvider.GOOGLE_GEMINI]: {
    [KeyHealth.INSUFFICIENT_PERMISSIONS]:
      'Google accepted this key but it may not use the Gemini API: enable the Generative Language API in the key\'s project, remove API restrictions that block it, and check that the API is offered in your region.',
  },
  [AiProvider.AZURE_OPENAI]: {
    [KeyHealth.INVALID_KEY]:
      'Azure OpenAI rejected this key: check that it is KEY 1 or KEY 2 of the resource at this endpoint (keys only work with their own resource) and that it has not been regenerated.',
    [KeyHealth.INSUFFICIENT_PERMISSIONS]:
      'Azure OpenAI refused key-based access to this resource: enable key authentication (local auth) on the resource, or check its network rules.',
    [KeyHealth.PROVIDER_UNREACHABLE]:
      'We could not reach this Azure OpenAI endpoint: check that it is your resource\'s public endpoint and that the resource accepts public network access, then try again.',
  },
  [AiProvider.MISTRAL]: {
    // Mistral keys have no prefix to get wrong.
    [KeyHealth.INVALID_KEY]:
      'Mistral AI rejected this key: check that you copied the whole key and that it has not been revoked.',
  },
};

const WHERE_TO_ENABLE: Readonly<Record<AiProvider, string>> = {
  [AiProvider.OPENAI]: "allow them in the key's project settings",
  [AiProvider.ANTHROPIC]: "make them available to the key's workspace",
  [AiProvider.GOOGLE_GEMINI]: "make them available to the key's Google Cloud project",
  [AiProvider.AZURE_OPENAI]: 'use a resource in a region that offers them',
  [AiProvider.MISTRAL]: 'make them available to your Mistral workspace',
};

/** missing lists catalog model ids (never provider text); it matters only for VALID. */
export function healthMessage(provider: AiProvider, health: KeyHealth, missing: readonly string[] = []): string {
  const name = MODEL_CATALOG[provider].displayName;
  if (health === KeyHealth.VALID && missing.length > 0) {
    return `${name} accepted this key, but it cannot use ${missing.join(', ')}, which the platform needs: ${WHERE_TO_ENABLE[provider]}, then test again.`;
  }
  return SPECIFIC[provider]?.[health] ?? GENERIC[health](name);
}
