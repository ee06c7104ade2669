import { AiProvider } from './ai-provider.enum';
import { AiTask } from './ai-task.enum';
import { KeyHealth } from './key-health.enum';
import { hostedCandidate } from './candidate-input';
import { baseUrlOf, type ProviderAdapter } from './provider-adapter';
import {
  PING,
  deepVerdictFrom,
  healthFromStatus,
  joinUrl,
  stringAt,
  stringsIn,
  valueAt,
} from './provider-answer';

// Anthropic: GET {base}/v1/models?limit=1000 with x-api-key and a pinned API version. The list is
// paginated (has_more/last_id -> after_id). Its error `type` names the failure precisely. The deep test
// POSTs {base}/v1/messages.

const API_VERSION = '2023-06-01';

const HEALTH_BY_ERROR_TYPE: ReadonlyMap<string, KeyHealth> = new Map([
  ['authentication_error', KeyHealth.INVALID_KEY], // 401
  ['permission_error', KeyHealth.INSUFFICIENT_PERMISSIONS], // 403
  ['billing_error', KeyHealth.QUOTA_EXCEEDED], // 402
  ['rate_limit_error', KeyHealth.RATE_LIMITED], // 429
  ['api_error', KeyHealth.PROVIDER_ERROR], // 500
  ['overloaded_error', KeyHealth.PROVIDER_ERROR], // 529
]);

export const anthropicAdapter: ProviderAdapter = {
  provider: AiProvider.ANTHROPIC,
  displayName: 'Anthropic',
  keyPrefix: 'sk-ant-',
  keyHint: 'Starts with sk-ant-',
  api: { baseUrl: 'https://api.anthropic.com', env: 'ANTHROPIC_BASE_URL' },
  models: {
    [AiTask.INTERVIEW_CONVERSATION]: 'claude-sonnet-4-5',
    [AiTask.ANALYSIS]: 'claude-haiku-4-5',
    [AiTask.INSIGHT_GENERATION]: 'claude-sonnet-4-5',
  },
  enableModels: "make them available to the key's workspace",

  normalize: (input) => hostedCandidate(anthropicAdapter, input),

  modelListRequest: (candidate, baseUrls, pageToken) => ({
    url: joinUrl(baseUrlOf(baseUrls, AiProvider.ANTHROPIC), '/v1/models', {
      limit: '1000',
      after_id: pageToken,
    }),
    headers: { 'x-api-key': candidate.apiKey, 'anthropic-version': API_VERSION },
  }),

  readModelPage(body) {
    const ids = stringsIn(body, ['data'], 'id');
    if (!ids) return undefined;
    const lastId = stringAt(body, 'last_id');
    return valueAt(body, 'has_more') === true && lastId ? { ids, nextPageToken: lastId } : { ids };
  },

  classifyError(status, body) {
    const byType = HEALTH_BY_ERROR_TYPE.get(stringAt(body, 'error', 'type') ?? '');
    if (byType) return byType;
    if (status === 402 && body !== undefined) return KeyHealth.QUOTA_EXCEEDED;
    return healthFromStatus(status, body);
  },

  deepTest: {
    request: (candidate, baseUrls, model) => ({
      url: joinUrl(baseUrlOf(baseUrls, AiProvider.ANTHROPIC), '/v1/messages'),
      headers: { 'x-api-key': candidate.apiKey, 'anthropic-version': API_VERSION },
      body: { model, max_tokens: 1, messages: PING },
    }),
    classify(status, body) {
      // An account out of credit is observed as a 400 invalid_request_error about the credit balance,
      // besides the documented 402 billing_error (classifyError). The message is read only for this.
      const message = stringAt(body, 'error', 'message') ?? '';
      if (status === 400 && /credit balance/i.test(message)) return { health: KeyHealth.QUOTA_EXCEEDED };
      return deepVerdictFrom(status, body, anthropicAdapter);
    },
  },
};
