import { AiProvider, KeyHealth } from '../../src/providers/ai-provider.enum';
import { ConnectionTester, normalizeCandidate, type ConnectionTestResult } from '../../src/providers/connection-tester';
import { MODEL_CATALOG } from '../../src/providers/model-catalog';
import { type FakeProviders, type RecordedRequest, type Scenario, makeKey, startFakeProviders } from '../support/fake-providers';
import { keyFragmentsIn } from './key-fragments';

// "Test Connection" through real HTTP against the fake providers: for every provider, every health
// it can produce, the one request it makes, and what a customer reads afterwards.

let fake: FakeProviders;
let tester: ConnectionTester;

beforeAll(async () => {
  fake = await startFakeProviders();
  tester = new ConnectionTester({
    baseUrls: fake.baseUrls,
    timeoutMs: 5000,
    outboundAllowlist: fake.allowlist,
    lookup: fake.lookup,
  });
});
afterAll(async () => {
  await tester.close();
  await fake.close();
});
beforeEach(() => fake.reset());

/** The contract's request per provider: path and query, and the one header that carries the key. */
const CONTRACT: Readonly<Record<AiProvider, { url: string; authHeader: string; auth: (key: string) => string }>> = {
  [AiProvider.OPENAI]: { url: '/openai/v1/models', authHeader: 'authorization', auth: (key) => `Bearer ${key}` },
  [AiProvider.ANTHROPIC]: { url: '/anthropic/v1/models?limit=1000', authHeader: 'x-api-key', auth: (key) => key },
  [AiProvider.GOOGLE_GEMINI]: { url: '/gemini/v1beta/models?pageSize=1000', authHeader: 'x-goog-api-key', auth: (key) => key },
  [AiProvider.AZURE_OPENAI]: { url: '/openai/models?api-version=2024-10-21', authHeader: 'api-key', auth: (key) => key },
  [AiProvider.MISTRAL]: { url: '/mistral/v1/models', authHeader: 'authorization', auth: (key) => `Bearer ${key}` },
};

async function testKey(provider: AiProvider, apiKey: string): Promise<ConnectionTestResult> {
  const azure = provider === AiProvider.AZURE_OPENAI;
  const candidate = normalizeCandidate(
    { provider, apiKey, endpoint: azure ? fake.azureEndpoint : null, deployment: azure ? 'gpt41-prod' : null },
    fake.allowlist,
  );
  return tester.test(candidate);
}

/** The key appears in the provider's auth header, exactly, and nowhere else in the request. */
function expectKeyOnlyInAuthHeader(request: RecordedRequest, provider: AiProvider, key: string): void {
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

/**
 * Every field of a result but the health enum, whose names (QUOTA_EXCEEDED…) share words with the
 * fake's scenario markers and carry nothing of the key anyway.
 */
function visibleText(result: ConnectionTestResult): string {
  return JSON.stringify({ ...result, health: undefined });
}

// What a customer reads for each health: our words, never the provider's.
const MESSAGE: Readonly<Record<KeyHealth, RegExp>> = {
  [KeyHealth.UNTESTED]: /not been tested/,
  [KeyHealth.VALID]: /accepted this key/,
  [KeyHealth.INVALID_KEY]: /rejected this key/,
  [KeyHealth.INSUFFICIENT_PERMISSIONS]: /denied|refused|may not/,
  [KeyHealth.QUOTA_EXCEEDED]: /credit or quota/,
  [KeyHealth.RATE_LIMITED]: /rate-limiting/,
  [KeyHealth.PROVIDER_UNREACHABLE]: /could not reach/,
  [KeyHealth.PROVIDER_ERROR]: /could not interpret/,
};

type Case = [AiProvider, Scenario, KeyHealth];
const { OPENAI, ANTHROPIC, GOOGLE_GEMINI, AZURE_OPENAI, MISTRAL } = AiProvider;
const { VALID, INVALID_KEY, INSUFFICIENT_PERMISSIONS, QUOTA_EXCEEDED, RATE_LIMITED, PROVIDER_ERROR, PROVIDER_UNREACHABLE } = KeyHealth;

const CASES: Case[] = [
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

describe.each(CASES)('%s key answered %s', (provider, scenario, health) => {
  const key = makeKey(provider, scenario);
  let result: ConnectionTestResult;
  let requests: RecordedRequest[];
  beforeAll(async () => {
    fake.reset();
    result = await testKey(provider, key);
    requests = [...fake.requests];
  });

  it(`is ${health}, with our own message`, () => {
    expect(result).toMatchObject({ provider, health, ok: health === VALID, missingModels: [] });
    expect(result.message).toMatch(MESSAGE[health]);
    expect(result.message).toMatch(/^[A-Z].*\.$/);
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
    expect(result.testedAt).toBeInstanceOf(Date);
  });

  it('made exactly one request, as the contract describes, with the key only in the auth header', () => {
    expect(requests).toHaveLength(1);
    expect(requests[0].url).toBe(CONTRACT[provider].url);
    expectKeyOnlyInAuthHeader(requests[0], provider, key);
  });

  it('returns no piece of the key, although the provider echoed it', () => {
    expect(keyFragmentsIn(visibleText(result), key)).toEqual([]);
  });
});

describe.each([
  [OPENAI, ['o4-mini']],
  [ANTHROPIC, ['claude-haiku-4-5']],
  [GOOGLE_GEMINI, ['gemini-2.5-pro']],
  [AZURE_OPENAI, ['gpt-4.1']],
  [MISTRAL, ['mistral-small-latest']],
])('%s key that cannot use every model', (provider, missing) => {
  it('is VALID but not ok, and names the models to enable', async () => {
    const key = makeKey(provider, 'NOMODEL');
    const result = await testKey(provider, key);
    expect(result).toMatchObject({ health: VALID, ok: false, missingModels: missing });
    for (const model of missing) expect(result.message).toContain(model);
    expect(result.message).toContain(MODEL_CATALOG[provider].displayName);
    expect(fake.requests).toHaveLength(1);
    expect(keyFragmentsIn(visibleText(result), key)).toEqual([]);
  });
});

describe.each([ANTHROPIC, GOOGLE_GEMINI])('%s paginated model list', (provider) => {
  it('follows the cursor to a second page, one request per page, key only in the header', async () => {
    const key = makeKey(provider, 'PAGED');
    const result = await testKey(provider, key);
    expect(result).toMatchObject({ health: VALID, ok: true, missingModels: [] });
    expect(fake.requests.map((request) => request.url)).toEqual(
      provider === ANTHROPIC
        ? ['/anthropic/v1/models?limit=1000', '/anthropic/v1/models?limit=1000&after_id=claude-3-haiku-20240307']
        : ['/gemini/v1beta/models?pageSize=1000', '/gemini/v1beta/models?pageSize=1000&pageToken=page-2-token'],
    );
    for (const request of fake.requests) expectKeyOnlyInAuthHeader(request, provider, key);
  });

  it('gives up after 10 pages that never end, reporting the models it did not see', async () => {
    const result = await testKey(provider, makeKey(provider, 'MANYPAGES'));
    expect(fake.requests).toHaveLength(10);
    expect(result).toMatchObject({ health: VALID, ok: false });
    expect(result.missingModels.length).toBeGreaterThan(0);
  });
});

describe('key input on the way to a test', () => {
  it.each(Object.values(AiProvider))('%s: a key with surrounding whitespace is trimmed and works', async (provider) => {
    const key = makeKey(provider);
    const result = await testKey(provider, `\n  ${key} \t`);
    expect(result).toMatchObject({ health: VALID, ok: true });
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0].headers[CONTRACT[provider].authHeader]).toBe(CONTRACT[provider].auth(key));
  });

  it.each([
    [OPENAI, (key: string) => key.slice(3)],
    [ANTHROPIC, (key: string) => key.slice(7)],
    [GOOGLE_GEMINI, (key: string) => key.slice(4)],
  ])('%s: a key without its prefix is BAD_USER_INPUT and nothing is sent', async (provider, strip) => {
    await expect(testKey(provider, strip(makeKey(provider)))).rejects.toMatchObject({
      extensions: { code: 'BAD_USER_INPUT', field: 'apiKey' },
    });
    expect(fake.requests).toHaveLength(0);
    expect(fake.connections).toBe(0);
  });
});
