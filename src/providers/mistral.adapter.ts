import { AiProvider } from './ai-provider.enum';
import { hostedCandidate } from './candidate-input';
import type { ProviderAdapter } from './provider-adapter';
import { healthFromStatus, joinUrl, stringsIn } from './provider-answer';

// Mistral: GET {base}/v1/models with a Bearer key. Keys have no documented prefix, and its errors
// carry no codes ({"message":"Unauthorized"} or {"detail":"Unauthorized"}), so the status decides.

export const mistralAdapter: ProviderAdapter = {
  provider: AiProvider.MISTRAL,

  normalize: (input) => hostedCandidate(input),

  modelListRequest: (candidate, baseUrls) => ({
    url: joinUrl(baseUrls.MISTRAL, '/v1/models'),
    headers: { authorization: `Bearer ${candidate.apiKey}` },
  }),

  readModelPage(body) {
    const ids = stringsIn(body, ['data'], 'id');
    return ids && { ids };
  },

  classifyError: (status, body) => healthFromStatus(status, body),
};
