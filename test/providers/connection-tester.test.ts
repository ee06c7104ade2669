import { AiProvider } from '../../src/providers/ai-provider.enum';
import { KeyHealth } from '../../src/providers/key-health.enum';
import { ConnectionTester, type ConnectionTestResult } from '../../src/providers/connection-tester';
import { normalizeCandidate } from '../../src/providers/adapters';
import { displayNameOf } from '../../src/providers/adapters';
import {
  type FakeProviders,
  type RecordedRequest,
  makeKey,
  startFakeProviders,
} from '../support/fake-providers';
import { keyFragmentsIn } from '../support/key-fragments';
import {
  CASES,
  CONTRACT,
  MESSAGE,
  MISSING_MODELS,
  expectKeyOnlyInAuthHeader,
} from '../support/provider-cases';

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

async function testKey(provider: AiProvider, apiKey: string): Promise<ConnectionTestResult> {
  const azure = provider === AiProvider.AZURE_OPENAI;
  const candidate = normalizeCandidate(
    {
      provider,
      apiKey,
      endpoint: azure ? fake.azureEndpoint : null,
      deployment: azure ? 'gpt41-prod' : null,
    },
    fake.allowlist,
  );
  return tester.test(candidate);
}

/**
 * Every field of a result but the health enum, whose names (QUOTA_EXCEEDED…) share words with the
 * fake's scenario markers and carry nothing of the key anyway.
 */
function visibleText(result: ConnectionTestResult): string {
  return JSON.stringify({ ...result, health: undefined });
}

const { OPENAI, ANTHROPIC, GOOGLE_GEMINI } = AiProvider;
const { VALID } = KeyHealth;

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
    // The list's ids when one was read, and none otherwise.
    expect(result.listedModels === undefined).toBe(health !== VALID);
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

describe.each(Object.entries(MISSING_MODELS) as [AiProvider, string[]][])(
  '%s key that cannot use every model',
  (provider, missing) => {
    it('is VALID but not ok, and names the models to enable', async () => {
      const key = makeKey(provider, 'NOMODEL');
      const result = await testKey(provider, key);
      expect(result).toMatchObject({ health: VALID, ok: false, missingModels: missing });
      for (const model of missing) expect(result.message).toContain(model);
      expect(result.message).toContain(displayNameOf(provider));
      expect(fake.requests).toHaveLength(1);
      expect(keyFragmentsIn(visibleText(result), key)).toEqual([]);
    });
  },
);

describe.each([ANTHROPIC, GOOGLE_GEMINI])('%s paginated model list', (provider) => {
  it('follows the cursor to a second page, one request per page, key only in the header', async () => {
    const key = makeKey(provider, 'PAGED');
    const result = await testKey(provider, key);
    expect(result).toMatchObject({ health: VALID, ok: true, missingModels: [] });
    // Every page's ids, for availableModels.
    expect(result.listedModels).toEqual(
      provider === ANTHROPIC
        ? ['claude-sonnet-4-5-20250929', 'claude-3-haiku-20240307', 'claude-haiku-4-5-20251001']
        : ['gemini-2.5-pro', 'embedding-001', 'gemini-2.5-flash'],
    );
    expect(fake.requests.map((request) => request.url)).toEqual(
      provider === ANTHROPIC
        ? [
            '/anthropic/v1/models?limit=1000',
            '/anthropic/v1/models?limit=1000&after_id=claude-3-haiku-20240307',
          ]
        : [
            '/gemini/v1beta/models?pageSize=1000',
            '/gemini/v1beta/models?pageSize=1000&pageToken=page-2-token',
          ],
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

describe('the listed model ids', () => {
  it('are kept to the first 2000 distinct ids, however many the provider lists', async () => {
    const ids = Array.from({ length: 2500 }, (_, i) => `ft:acme:${i % 2400}`);
    fake.listModels(OPENAI, [...ids, 'gpt-4.1', 'gpt-4.1-mini', 'o4-mini']);
    const result = await testKey(OPENAI, makeKey(OPENAI));
    expect(result).toMatchObject({ health: VALID, ok: true });
    expect(result.listedModels).toEqual(ids.slice(0, 2000));
  });

  it('fit the stored column: long ids stop the list before 60,000 bytes, and absurd ids are dropped', async () => {
    const ids = Array.from(
      { length: 1500 },
      (_, i) => `ft:gpt-4.1-mini-2025-04-14:acme-research:interviews-${i}`,
    );
    fake.listModels(OPENAI, ['x'.repeat(500), ...ids, 'gpt-4.1', 'gpt-4.1-mini', 'o4-mini']);
    const result = await testKey(OPENAI, makeKey(OPENAI));
    const kept = result.listedModels ?? [];
    expect(Buffer.byteLength(JSON.stringify(kept))).toBeLessThanOrEqual(60_000);
    expect(kept.length).toBeGreaterThan(900);
    expect(kept).toEqual(ids.slice(0, kept.length));
  });
});

describe('key input on the way to a test', () => {
  it.each(Object.values(AiProvider))(
    '%s: a key with surrounding whitespace is trimmed and works',
    async (provider) => {
      const key = makeKey(provider);
      const result = await testKey(provider, `\n  ${key} \t`);
      expect(result).toMatchObject({ health: VALID, ok: true });
      expect(fake.requests).toHaveLength(1);
      expect(fake.requests[0].headers[CONTRACT[provider].authHeader]).toBe(CONTRACT[provider].auth(key));
    },
  );

  it.each([
    [OPENAI, (key: string) => key.slice(3)],
    [ANTHROPIC, (key: string) => key.slice(7)],
    [GOOGLE_GEMINI, (key: string) => key.slice(4)],
  ])('%s: a key without its prefix is refused as input and nothing is sent', async (provider, strip) => {
    await expect(testKey(provider, strip(makeKey(provider)))).rejects.toMatchObject({
      name: 'ProviderInputError',
      field: 'apiKey',
    });
    expect(fake.requests).toHaveLength(0);
    expect(fake.connections).toBe(0);
  });
});
