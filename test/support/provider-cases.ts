import { AiProvider } from '../../src/providers/ai-provider.enum';
import { KeyHealth } from '../../src/providers/key-health.enum';
import type { RecordedRequest, Scenario } from './fake-providers';

// What a connection test must do and say, per provider: shared by the tester's own tests and the
// end-to-end tests through GraphQL, so both prove the same table.

/** The contract's request per provider: path and query, and the one header that carries the key. */
export const CONTRACT: Readonly<
  Record<AiProvider, { url: string; authHeader: string; auth: (key: string) => string }>
> = {
  [AiProvider.OPENAI]: {
    url: '/openai/v1/models',
    authHeader: 'authorization',
    auth: (key) => `Bearer ${key}`,
  },
  [AiProvider.ANTHROPIC]: {
    url: '/anthropic/v1/models?limit=1000',
    authHeader: 'x-api-key',
    auth: (key) => key,
  },
  [AiProvider.GOOGLE_GEMINI]: {
    url: '/gemini/v1beta/models?pageSize=1000',
    authHeader: 'x-goog-api-key',
    auth: (key) => key,
  },
  [AiProvider.AZURE_OPENAI]: {
    url: '/openai/models?api-version=2024-10-21',
    authHeader: 'api-key',
    auth: (key) => key,
  },
  [AiProvider.MISTRAL]: {
    url: '/mistral/v1/models',
    authHeader: 'authorization',
    auth: (key) => `Bearer ${key}`,
  },
};

/** The key appears in the provider's auth header, exactly, and nowhere else in the request. */
export function expectKeyOnlyInAuthHeader(request: RecordedRequest, provider: AiProvider, key: string): void {
  const { authHeader, auth } = CONTRACT[provider];
  expect(request.method).toBe('GET');
  expect(request.url).not.toContain(key);
  expect(request.url).not.toMatch(/[?&]key=/);
  expect(request.headers[authHeader]).toBe(auth(key));
  for (const [name, value] of Object.entries(request.headers)) {
    if (name !== authHeader) expect([name, String(value)].join(': ')).not.toContain(key);
  }
  if (provider === AiProvider.ANTHROPIC) expect(request.headers['anthropic-version']).toBe('2023-06-01');
}

/** What a customer reads for each health: our words, never the provider's. */
export const MESSAGE: Readonly<Record<KeyHealth, RegExp>> = {
  [KeyHealth.UNTESTED]: /not been tested/,
  [KeyHealth.VALID]: /accepted this key/,
  [KeyHealth.INVALID_KEY]: /rejected this key/,
  [KeyHealth.INSUFFICIENT_PERMISSIONS]: /denied|refused|may not/,
  [KeyHealth.QUOTA_EXCEEDED]: /credit or quota/,
  [KeyHealth.RATE_LIMITED]: /rate-limiting/,
  [KeyHealth.PROVIDER_UNREACHABLE]: /could not reach/,
  [KeyHealth.PROVIDER_ERROR]: /could not interpret/,
};

export type Case = [AiProvider, Scenario, KeyHealth];
const { OPENAI, ANTHROPIC, GOOGLE_GEMINI, AZURE_OPENAI, MISTRAL } = AiProvider;
const {
  VALID,
  INVALID_KEY,
  INSUFFICIENT_PERMISSIONS,
  QUOTA_EXCEEDED,
  RATE_LIMITED,
  PROVIDER_ERROR,
  PROVIDER_UNREACHABLE,
} = KeyHealth;

/** Every health each provider can produce, with the fake's scenario that produces it. */
export const CASES: Case[] = [
  [OPENAI, 'VALID', VALID],
  [OPENAI, 'REVOKED', INVALID_KEY],
  [OPENAI, 'RESTRICTED', INSUFFICIENT_PERMISSIONS],
  [OPENAI, 'RESTRICTED403', INSUFFICIENT_PERMISSIONS],
  [OPENAI, 'REGION', INSUFFICIENT_PERMISSIONS],
  [OPENAI, 'QUOTA', QUOTA_EXCEEDED],
  [OPENAI, 'RATELIMIT', RATE_LIMITED],
  [OPENAI, 'ERROR500', PROVIDER_ERROR],
  [OPENAI, 'UNAVAILABLE503', PROVIDER_ERROR],
  [ANTHROPIC, 'VALID', VALID],
  [ANTHROPIC, 'REVOKED', INVALID_KEY],
  [ANTHROPIC, 'PERMISSION', INSUFFICIENT_PERMISSIONS],
  [ANTHROPIC, 'QUOTA', QUOTA_EXCEEDED],
  [ANTHROPIC, 'RATELIMIT', RATE_LIMITED],
  [ANTHROPIC, 'ERROR500', PROVIDER_ERROR],
  [ANTHROPIC, 'OVERLOADED529', PROVIDER_ERROR],
  [GOOGLE_GEMINI, 'VALID', VALID],
  [GOOGLE_GEMINI, 'REVOKED', INVALID_KEY],
  [GOOGLE_GEMINI, 'LEAKED', INVALID_KEY],
  [GOOGLE_GEMINI, 'BLOCKED', INSUFFICIENT_PERMISSIONS],
  [GOOGLE_GEMINI, 'DISABLED', INSUFFICIENT_PERMISSIONS],
  [GOOGLE_GEMINI, 'REGION', INSUFFICIENT_PERMISSIONS],
  [GOOGLE_GEMINI, 'BADREQUEST', PROVIDER_ERROR],
  [GOOGLE_GEMINI, 'RATELIMIT', RATE_LIMITED],
  [GOOGLE_GEMINI, 'ERROR500', PROVIDER_ERROR],
  [GOOGLE_GEMINI, 'UNAVAILABLE503', PROVIDER_ERROR],
  [AZURE_OPENAI, 'VALID', VALID],
  [AZURE_OPENAI, 'REVOKED', INVALID_KEY],
  [AZURE_OPENAI, 'DISABLED', INSUFFICIENT_PERMISSIONS],
  [AZURE_OPENAI, 'RATELIMIT', RATE_LIMITED],
  [AZURE_OPENAI, 'ERROR500', PROVIDER_ERROR],
  [MISTRAL, 'VALID', VALID],
  [MISTRAL, 'REVOKED', INVALID_KEY],
  [MISTRAL, 'UNAUTHDETAIL', INVALID_KEY],
  [MISTRAL, 'RATELIMIT', RATE_LIMITED],
  [MISTRAL, 'ERROR500', PROVIDER_ERROR],
  // Answers that are not the provider's: the same for everyone.
  ...Object.values(AiProvider).flatMap((provider): Case[] => [
    [provider, 'TEAPOT418', PROVIDER_ERROR],
    [provider, 'HTML401', PROVIDER_ERROR],
    [provider, 'BADJSON', PROVIDER_ERROR],
    [provider, 'REDIRECT', PROVIDER_UNREACHABLE],
  ]),
];

/**
 * The models a NOMODEL key (the fake's partial list) cannot use: VALID, but not ok. The fake's lists
 * carry look-alikes (gpt-4.1-mini for gpt-4.1, o4-mini-deep-research for o4-mini) that must not count.
 */
export const MISSING_MODELS: Readonly<Record<AiProvider, string[]>> = {
  [OPENAI]: ['o4-mini'],
  [ANTHROPIC]: ['claude-haiku-4-5'],
  [GOOGLE_GEMINI]: ['gemini-2.5-pro'],
  [AZURE_OPENAI]: ['gpt-4.1'],
  [MISTRAL]: ['mistral-small-latest'],
};

// ---- the deep test ----------------------------------------------------------------------------

/** The billed request per provider and model (providers.md "Deep test"): path and query, and the body. */
export const DEEP_CONTRACT: Readonly<
  Record<AiProvider, { url: (model: string, deployment: string) => string; body: (model: string) => unknown }>
> = {
  [AiProvider.OPENAI]: {
    url: () => '/openai/v1/chat/completions',
    body: (model) => ({ model, messages: [{ role: 'user', content: 'ping' }], max_completion_tokens: 1 }),
  },
  [AiProvider.ANTHROPIC]: {
    url: () => '/anthropic/v1/messages',
    body: (model) => ({ model, max_tokens: 1, messages: [{ role: 'user', content: 'ping' }] }),
  },
  [AiProvider.GOOGLE_GEMINI]: {
    url: (model) => `/gemini/v1beta/models/${model}:generateContent`,
    body: () => ({ contents: [{ parts: [{ text: 'ping' }] }], generationConfig: { maxOutputTokens: 1 } }),
  },
  [AiProvider.AZURE_OPENAI]: {
    url: (_model, deployment) => `/openai/deployments/${deployment}/chat/completions?api-version=2024-10-21`,
    body: () => ({ messages: [{ role: 'user', content: 'ping' }], max_tokens: 1 }),
  },
  [AiProvider.MISTRAL]: {
    url: () => '/mistral/v1/chat/completions',
    body: (model) => ({ model, messages: [{ role: 'user', content: 'ping' }], max_tokens: 1 }),
  },
};

/** The distinct models each provider's key must reach, as the deep test bills them (Azure: one deployment). */
export const DEEP_MODELS: Readonly<Record<AiProvider, string[]>> = {
  [OPENAI]: ['gpt-4.1', 'gpt-4.1-mini', 'o4-mini'],
  [ANTHROPIC]: ['claude-sonnet-4-5', 'claude-haiku-4-5'],
  [GOOGLE_GEMINI]: ['gemini-2.5-flash', 'gemini-2.5-pro'],
  [AZURE_OPENAI]: ['gpt-4.1'],
  [MISTRAL]: ['mistral-large-latest', 'mistral-small-latest'],
};

/**
 * A billed request exactly as the contract describes it: a POST of JSON asking for one output token,
 * the key in the provider's auth header and nowhere else (not in the URL, the body or another header).
 */
export function expectBilledRequest(
  request: RecordedRequest,
  provider: AiProvider,
  key: string,
  model: string,
  deployment: string,
): void {
  const { authHeader, auth } = CONTRACT[provider];
  expect(request.method).toBe('POST');
  expect(request.url).toBe(DEEP_CONTRACT[provider].url(model, deployment));
  expect(request.headers['content-type']).toBe('application/json');
  expect(request.body).toEqual(DEEP_CONTRACT[provider].body(model));
  expect(request.rawBody).not.toContain(key);
  expect(request.headers[authHeader]).toBe(auth(key));
  for (const [name, value] of Object.entries(request.headers)) {
    if (name !== authHeader) expect([name, String(value)].join(': ')).not.toContain(key);
  }
  if (provider === AiProvider.ANTHROPIC) expect(request.headers['anthropic-version']).toBe('2023-06-01');
}

/** The model a billed request asked for: in its body, or (Gemini) its path; Azure names none. */
export function billedModelOf(request: RecordedRequest): string | undefined {
  const gemini = /\/models\/([^/:]+):generateContent$/.exec(request.url);
  return gemini ? gemini[1] : (request.body as { model?: string } | undefined)?.model;
}
