import { AiProvider } from './ai-provider.enum';
import { AiTask } from './ai-task.enum';
import { KeyHealth } from './key-health.enum';
import { hostedCandidate } from './candidate-input';
import { baseUrlOf, type ProviderAdapter } from './provider-adapter';
import { PING, deepVerdictFrom, healthFromStatus, joinUrl, stringAt, stringsIn } from './provider-answer';

// OpenAI: GET {base}/models with a Bearer key; the deep test POSTs {base}/chat/completions. Its 401 text
// echoes part of the key, which is one more reason no provider text ever leaves classifyError.

// A restricted key lacking the Models scope is answered 401 (sometimes 403) like a bad key, with no
// distinguishing code; only the message tells them apart (providers.md). Telling a customer to
// replace a key that merely needs a scope would be wrong, so this is the one place we read a message.
const MISSING_SCOPE = /insufficient permissions|missing scopes/i;

export const openAiAdapter: ProviderAdapter = {
  provider: AiProvider.OPENAI,
  displayName: 'OpenAI',
  keyPrefix: 'sk-',
  keyHint: 'Starts with sk-',
  api: { baseUrl: 'https://api.openai.com/v1', env: 'OPENAI_BASE_URL' },
  // The conversation needs a fast, strong chat model; analysis is high-volume tagging of transcripts,
  // so a cheaper one; insight generation reasons across many analyses, so a reasoning model. The other
  // adapters follow the same shape.
  models: {
    [AiTask.INTERVIEW_CONVERSATION]: 'gpt-4.1',
    [AiTask.ANALYSIS]: 'gpt-4.1-mini',
    [AiTask.INSIGHT_GENERATION]: 'o4-mini',
  },
  enableModels: "allow them in the key's project settings",
  healthAdvice: {
    [KeyHealth.INSUFFICIENT_PERMISSIONS]:
      'OpenAI accepted this key but it may not list models: give the restricted key Read access to Models (or use a key with All permissions) and check that your region is supported.',
  },

  normalize: (input) => hostedCandidate(openAiAdapter, input),

  modelListRequest: (candidate, baseUrls) => ({
    url: joinUrl(baseUrlOf(baseUrls, AiProvider.OPENAI), '/models'),
    headers: { authorization: `Bearer ${candidate.apiKey}` },
  }),

  readModelPage(body) {
    const ids = stringsIn(body, ['data'], 'id');
    return ids && { ids };
  },

  classifyError(status, body) {
    const message = stringAt(body, 'error', 'message') ?? '';
    if ((status === 401 || status === 403) && MISSING_SCOPE.test(message)) {
      return KeyHealth.INSUFFICIENT_PERMISSIONS;
    }
    const code = stringAt(body, 'error', 'code');
    const type = stringAt(body, 'error', 'type');
    if (status === 429 && (code === 'insufficient_quota' || type === 'insufficient_quota')) {
      return KeyHealth.QUOTA_EXCEEDED;
    }
    // 401 invalid_api_key -> INVALID_KEY; 403 (unsupported region, project without access) ->
    // INSUFFICIENT_PERMISSIONS; 429 rate_limit_exceeded -> RATE_LIMITED.
    return healthFromStatus(status, body);
  },

  deepTest: {
    request: (candidate, baseUrls, model) => ({
      url: joinUrl(baseUrlOf(baseUrls, AiProvider.OPENAI), '/chat/completions'),
      headers: { authorization: `Bearer ${candidate.apiKey}` },
      // Reasoning models (o4-mini) refuse max_tokens; with one token they answer an empty completion.
      body: { model, messages: PING, max_completion_tokens: 1 },
    }),
    classify(status, body) {
      // A project that may not use the model answers model_not_found, as 404 or 403.
      if (stringAt(body, 'error', 'code') === 'model_not_found') {
        return { health: KeyHealth.VALID, modelMissing: true };
      }
      return deepVerdictFrom(status, body, openAiAdapter);
    },
  },
};
