import { AiProvider } from '../../src/providers/ai-provider.enum';
import { KeyHealth } from '../../src/providers/key-health.enum';
import { ConnectionTester, type ConnectionTestResult } from '../../src/providers/connection-tester';
import { normalizeCandidate } from '../../src/providers/adapters';
import { type FakeProviders, type Scenario, makeKey, startFakeProviders } from '../support/fake-providers';
import { keyFragmentsIn } from '../support/key-fragments';
import {
  CONTRACT,
  DEEP_MODELS,
  MESSAGE,
  billedModelOf,
  expectBilledRequest,
} from '../support/provider-cases';

// The deep test through real HTTP against the fake providers: after the token-free model list, one
// billed request per needed model, and what its answer means. The end-to-end suite
// (test/provider-keys/deep-test.test.ts) proves the main cases through the API; this one every rule.

const DEPLOYMENT = 'gpt41-prod';
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

function deepTest(provider: AiProvider, scenario: Scenario, deep = true): Promise<ConnectionTestResult> {
  const azure = provider === AiProvider.AZURE_OPENAI;
  const candidate = normalizeCandidate(
    {
      provider,
      apiKey: makeKey(provider, scenario),
      endpoint: azure ? fake.azureEndpoint : null,
      deployment: azure ? DEPLOYMENT : null,
    },
    fake.allowlist,
  );
  return tester.test(candidate, { deep });
}

const billed = () => fake.requests.filter((request) => request.method === 'POST');
const { OPENAI, ANTHROPIC, GOOGLE_GEMINI, AZURE_OPENAI, MISTRAL } = AiProvider;
const { VALID, QUOTA_EXCEEDED, RATE_LIMITED, INVALID_KEY, PROVIDER_UNREACHABLE } = KeyHealth;

describe.each(Object.values(AiProvider))('%s deep test', (provider) => {
  it('lists the models, then bills one request per needed model asking for one token; an empty completion passes', async () => {
    const result = await deepTest(provider, 'VALID');
    expect(result).toMatchObject({ provider, health: VALID, ok: true, deep: true, missingModels: [] });
    expect(fake.requests[0]).toMatchObject({ method: 'GET', url: CONTRACT[provider].url });
    const key = makeKey(provider, 'VALID');
    expect(billed()).toHaveLength(DEEP_MODELS[provider].length);
    for (const model of DEEP_MODELS[provider]) {
      const request = billed().find((r) => billedModelOf(r) === model) ?? billed()[0];
      expectBilledRequest(request, provider, key, model, DEPLOYMENT);
    }
  });

  it('without deep makes the model-list request only, and says so', async () => {
    const result = await deepTest(provider, 'VALID', false);
    expect(result).toMatchObject({ health: VALID, ok: true, deep: false });
    expect(fake.requests.map((request) => request.method)).toEqual(['GET']);
  });

  it('bills nothing for a key the model list rejects', async () => {
    const result = await deepTest(provider, 'REVOKED');
    expect(result).toMatchObject({ health: INVALID_KEY, ok: false, deep: false });
    expect(billed()).toEqual([]);
  });

  it('out of credit is QUOTA_EXCEEDED, though the model list passed; no piece of the key comes back', async () => {
    const result = await deepTest(provider, 'NOCREDIT');
    expect(result).toMatchObject({ health: QUOTA_EXCEEDED, ok: false, deep: true, missingModels: [] });
    expect(result.message).toMatch(provider === MISTRAL ? /quota/ : MESSAGE[QUOTA_EXCEEDED]);
    expect(keyFragmentsIn(JSON.stringify(result), makeKey(provider, 'NOCREDIT'), ['NOCREDIT'])).toEqual([]);
  });

  it('a redirect from the billed endpoint is not followed: PROVIDER_UNREACHABLE', async () => {
    const result = await deepTest(provider, 'CHATREDIRECT');
    expect(result).toMatchObject({ health: PROVIDER_UNREACHABLE, ok: false, deep: true });
    expect(fake.requests.map((request) => request.url)).not.toContain('/redirect-target');
  });
});

describe('what a billed answer means, provider by provider', () => {
  it.each([OPENAI, ANTHROPIC, GOOGLE_GEMINI, MISTRAL])(
    '%s: a model the list shows but the key may not call joins missingModels',
    async (provider) => {
      const result = await deepTest(provider, 'UNSERVED');
      const model = {
        OPENAI: 'o4-mini',
        ANTHROPIC: 'claude-haiku-4-5',
        GOOGLE_GEMINI: 'gemini-2.5-pro',
        MISTRAL: 'mistral-small-latest',
      }[provider as string];
      expect(result).toMatchObject({ health: VALID, ok: false, deep: true, missingModels: [model] });
      expect(result.message).toContain(model);
    },
  );

  it('Azure OpenAI: a deployment that does not exist is INSUFFICIENT_PERMISSIONS naming it', async () => {
    const result = await deepTest(AZURE_OPENAI, 'UNSERVED');
    expect(result).toMatchObject({ health: KeyHealth.INSUFFICIENT_PERMISSIONS, ok: false, deep: true });
    expect(result.message).toContain(`"${DEPLOYMENT}"`);
    expect(result.message).toMatch(/no deployment named/);
  });

  it('Anthropic: 402 billing_error is QUOTA_EXCEEDED as well', async () => {
    const result = await deepTest(ANTHROPIC, 'NOCREDIT402');
    expect(result).toMatchObject({ health: QUOTA_EXCEEDED, ok: false, deep: true });
  });

  it('Google Gemini: a 429 whose quota is per minute is RATE_LIMITED, not QUOTA_EXCEEDED', async () => {
    const result = await deepTest(GOOGLE_GEMINI, 'MINUTEQUOTA');
    expect(result).toMatchObject({ health: RATE_LIMITED, ok: false, deep: true });
  });

  it('Mistral: a 401 on the billed call says it cannot tell an exhausted free tier from a revoked key', async () => {
    const result = await deepTest(MISTRAL, 'NOCREDIT');
    expect(result.message).toMatch(/free tier/);
    expect(result.message).toMatch(/revoked/);
    expect(result.message).toMatch(/does not say which/);
  });

  it('a model the list already lacks is not billed', async () => {
    const result = await deepTest(OPENAI, 'NOMODEL');
    expect(result).toMatchObject({ health: VALID, ok: false, deep: true, missingModels: ['o4-mini'] });
    expect(
      billed()
        .map((request) => (request.body as { model: string }).model)
        .sort(),
    ).toEqual(['gpt-4.1', 'gpt-4.1-mini']);
  });
});
