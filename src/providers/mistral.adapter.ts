import { AiProvider } from './ai-provider.enum';
import { AiTask } from './ai-task.enum';
import { KeyHealth } from './key-health.enum';
import { hostedCandidate } from './candidate-input';
import { baseUrlOf, type ProviderAdapter } from './provider-adapter';
import { PING, deepVerdictFrom, healthFromStatus, joinUrl, stringAt, stringsIn } from './provider-answer';

// Mistral: GET {base}/v1/models with a Bearer key. Keys have no documented prefix, and its errors
// carry no codes ({"message":"Unauthorized"} or {"detail":"Unauthorized"}), so the status decides. The
// deep test POSTs {base}/v1/chat/completions.

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

  deepTest: {
    request: (candidate, baseUrls, model) => ({
      url: joinUrl(baseUrlOf(baseUrls, AiProvider.MISTRAL), '/v1/chat/completions'),
      headers: { authorization: `Bearer ${candidate.apiKey}` },
      body: { model, messages: PING, max_tokens: 1 },
    }),
    classify(status, body) {
      // A deep test runs only after the same key listed models, so a 401 here is most likely a free
      // tier used up, which Mistral answers exactly like a revoked key (observed): say both.
      if (status === 401) {
        return {
          health: KeyHealth.QUOTA_EXCEEDED,
          message:
            'Mistral AI lists models for this key but refused it a completion: Mistral answers this way both when the free tier or quota of the workspace is used up and when the key was revoked, and the answer does not say which. Check the plan and billing of the workspace and the key in the Mistral console, then test again.',
        };
      }
      // An unknown model is a 400 of type invalid_model.
      if (status === 400 && stringAt(body, 'type') === 'invalid_model') {
        return { health: KeyHealth.VALID, modelMissing: true };
      }
      return deepVerdictFrom(status, body, mistralAdapter);
    },
  },
};
