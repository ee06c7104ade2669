import { AiProvider } from './ai-provider.enum';
import { AiTask } from './ai-task.enum';
import { KeyHealth } from './key-health.enum';
import { hostedCandidate } from './candidate-input';
import { baseUrlOf, type ProviderAdapter } from './provider-adapter';
import { healthFromStatus, joinUrl, stringsIn } from './provider-answer';

// Mistral: GET {base}/v1/models with a Bearer key. Keys have no documented prefix, and its errors
// carry no codes ({"message":"Unauthorized"} or {"detail":"Unauthorized"}), so the status decides.

export const mistralAdapter: ProviderAdapter = {
  provider: AiProvider.MISTRAL,
  displayName: 'Mistral AI',
  keyHint: 'From the API Keys page of the Mistral console',
  api: { baseUrl: 'https://api.mistral.ai', env: 'MISTRAL_BASE_URL' },
  models: {
    [AiTask.INTERVIEW_CONVERSATION]: 'mistral-large-latest',
    [AiTask.ANALYSIS]: 'mistral-small-latest',
    [AiTask.INSIGHT_GENERATION]: 'mistral-large-latest',
  },
  enableModels: 'make them available to your Mistral workspace',
  healthAdvice: {
    // Mistral keys have no prefix to get wrong.
    [KeyHealth.INVALID_KEY]:
      'Mistral AI rejected this key: check that you copied the whole key and that it has not been revoked.',
  },

  normalize: (input) => hostedCandidate(mistralAdapter, input),

  modelListRequest: (candidate, baseUrls) => ({
    url: joinUrl(baseUrlOf(baseUrls, AiProvider.MISTRAL), '/v1/models'),
    headers: { authorization: `Bearer ${candidate.apiKey}` },
  }),

  readModelPage(body) {
    const ids = stringsIn(body, ['data'], 'id');
    return ids && { ids };
  },

  classifyError: (status, body) => healthFromStatus(status, body),
};
