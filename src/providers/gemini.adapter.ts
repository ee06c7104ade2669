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

// Google Gemini (Generative Language API): GET {base}/v1beta/models?pageSize=1000 with x-goog-api-key.
// The key never goes in `?key=`, where it would land in every access log on the way. Paginated by
// nextPageToken -> pageToken. Google says why in error.details[].reason (google.rpc.ErrorInfo). The deep
// test POSTs {base}/v1beta/models/<id>:generateContent.

/**
 * Whether a 429's google.rpc.QuotaFailure names a per-day quota (quotaId
 * "GenerateRequestsPerDayPerProjectPerModel-FreeTier" and the like): that lasts until tomorrow, so it
 * is the account's quota, not a rate to wait out.
 */
function exceedsDailyQuota(body: unknown): boolean {
  const details = valueAt(body, 'error', 'details');
  if (!Array.isArray(details)) return false;
  return details
    .filter((detail) => stringAt(detail, '@type')?.endsWith('google.rpc.QuotaFailure'))
    .flatMap((detail) => stringsIn(detail, ['violations'], 'quotaId') ?? [])
    .some((quotaId) => /PerDay/i.test(quotaId));
}

export const geminiAdapter: ProviderAdapter = {
  provider: AiProvider.GOOGLE_GEMINI,
  displayName: 'Google Gemini',
  keyPrefix: 'AIza',
  keyHint: 'Starts with AIza',
  api: { baseUrl: 'https://generativelanguage.googleapis.com', env: 'GEMINI_BASE_URL' },
  models: {
    [AiTask.INTERVIEW_CONVERSATION]: 'gemini-2.5-flash',
    [AiTask.ANALYSIS]: 'gemini-2.5-flash',
    [AiTask.INSIGHT_GENERATION]: 'gemini-2.5-pro',
  },
  enableModels: "make them available to the key's Google Cloud project",
  healthAdvice: {
    [KeyHealth.INSUFFICIENT_PERMISSIONS]:
      "Google accepted this key but it may not use the Gemini API: enable the Generative Language API in the key's project, remove API restrictions that block it, and check that the API is offered in your region.",
  },

  normalize: (input) => hostedCandidate(geminiAdapter, input),

  modelListRequest: (candidate, baseUrls, pageToken) => ({
    url: joinUrl(baseUrlOf(baseUrls, AiProvider.GOOGLE_GEMINI), '/v1beta/models', {
      pageSize: '1000',
      pageToken,
    }),
    headers: { 'x-goog-api-key': candidate.apiKey },
  }),

  readModelPage(body) {
    const names = stringsIn(body, ['models'], 'name');
    if (!names) return undefined;
    const ids = names.map((name) => name.replace(/^models\//, ''));
    const next = stringAt(body, 'nextPageToken');
    return next ? { ids, nextPageToken: next } : { ids };
  },

  classifyError(status, body) {
    const reasons = stringsIn(body, ['error', 'details'], 'reason') ?? [];
    // An invalid key is a 400 INVALID_ARGUMENT, told apart from other 400s only by this reason.
    if (reasons.includes('API_KEY_INVALID')) return KeyHealth.INVALID_KEY;
    // A key Google disabled as leaked answers 403 PERMISSION_DENIED with no ErrorInfo at all; the
    // permission problems of a working key (API_KEY_SERVICE_BLOCKED, SERVICE_DISABLED, referrer or
    // IP restrictions) always carry a reason and fall through to 403 -> INSUFFICIENT_PERMISSIONS.
    if (status === 403 && reasons.length === 0 && stringAt(body, 'error', 'status') === 'PERMISSION_DENIED') {
      return KeyHealth.INVALID_KEY;
    }
    // 400 FAILED_PRECONDITION: the key works but its account may not use the API from here (user
    // location not supported, free tier unavailable in the region) - the "region" row of the table.
    if (status === 400 && stringAt(body, 'error', 'status') === 'FAILED_PRECONDITION') {
      return KeyHealth.INSUFFICIENT_PERMISSIONS;
    }
    return healthFromStatus(status, body);
  },

  deepTest: {
    request: (candidate, baseUrls, model) => ({
      url: joinUrl(
        baseUrlOf(baseUrls, AiProvider.GOOGLE_GEMINI),
        `/v1beta/models/${encodeURIComponent(model)}:generateContent`,
      ),
      headers: { 'x-goog-api-key': candidate.apiKey },
      body: { contents: [{ parts: [{ text: PING[0].content }] }], generationConfig: { maxOutputTokens: 1 } },
    }),
    classify(status, body) {
      // RESOURCE_EXHAUSTED is a rate (RATE_LIMITED, the table) unless the quota is a daily one.
      if (status === 429 && exceedsDailyQuota(body)) return { health: KeyHealth.QUOTA_EXCEEDED };
      return deepVerdictFrom(status, body, geminiAdapter);
    },
  },
};
