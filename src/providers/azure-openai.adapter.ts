import { AiProvider, KeyHealth } from './ai-provider.enum';
import { normalizeAzureEndpoint, normalizeDeployment } from './azure-endpoint';
import { readApiKey } from './candidate-input';
import type { ProviderAdapter } from './provider-adapter';
import { healthFromStatus, joinUrl, stringAt, stringsIn } from './provider-answer';

// Azure OpenAI: GET {endpoint}/openai/models?api-version=2024-10-21 with the api-key header. The list
// names the base models the resource offers, not the customer's deployments: the deployment name is
// validated for shape but cannot be proven by a token-free request.

const API_VERSION = '2024-10-21';

export const azureOpenAiAdapter: ProviderAdapter = {
  provider: AiProvider.AZURE_OPENAI,

  normalize: (input, allowlist) => ({
    provider: AiProvider.AZURE_OPENAI,
    // Keys are 32 hex characters (legacy) or longer alphanumerics: no prefix to check.
    apiKey: readApiKey(AiProvider.AZURE_OPENAI, input.apiKey),
    endpoint: normalizeAzureEndpoint(input.endpoint, allowlist),
    deployment: normalizeDeployment(input.deployment),
  }),

  modelListRequest(candidate) {
    // normalize() guarantees an endpoint; a stored candidate without one is a programming error.
    if (!candidate.endpoint) throw new Error('Azure OpenAI candidate without an endpoint');
    return {
      url: joinUrl(candidate.endpoint, '/openai/models', { 'api-version': API_VERSION }),
      headers: { 'api-key': candidate.apiKey },
    };
  },

  readModelPage(body) {
    const ids = stringsIn(body, ['data'], 'id');
    return ids && { ids };
  },

  classifyError(status, body) {
    // Key-based auth turned off on the resource (Entra ID only): the key is real but unusable.
    if (status === 403 && stringAt(body, 'error', 'code') === 'AuthenticationTypeDisabled') {
      return KeyHealth.INSUFFICIENT_PERMISSIONS;
    }
    // 401 covers both a wrong key and a key of another region's endpoint: INVALID_KEY either way.
    return healthFromStatus(status, body);
  },
};
