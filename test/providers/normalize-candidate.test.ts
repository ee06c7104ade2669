import { AiProvider } from '../../src/providers/ai-provider.enum';
import { adapterFor, normalizeCandidate } from '../../src/providers/adapters';
import { ProviderInputError } from '../../src/providers/input-error';
import type { CandidateInput } from '../../src/providers/provider-adapter';
import { makeKey } from '../support/fake-providers';
import { keyFragmentsIn } from '../support/key-fragments';

// What a customer typing into the "add key" form gets back before any request is made.

function rejection(input: CandidateInput, allowlist: string[] = []): ProviderInputError {
  try {
    normalizeCandidate(input, allowlist);
  } catch (error) {
    expect(error).toBeInstanceOf(ProviderInputError);
    return error as ProviderInputError;
  }
  throw new Error('expected ProviderInputError, but the input was accepted');
}

const azure = (endpoint: string | null, deployment: string | null = 'gpt41-prod'): CandidateInput => ({
  provider: AiProvider.AZURE_OPENAI,
  apiKey: makeKey(AiProvider.AZURE_OPENAI),
  endpoint,
  deployment,
});

describe('key input', () => {
  it('trims surrounding whitespace and keeps the key otherwise as typed', () => {
    const key = makeKey(AiProvider.OPENAI);
    expect(normalizeCandidate({ provider: AiProvider.OPENAI, apiKey: `  \t${key}\n ` }, [])).toEqual({
      provider: AiProvider.OPENAI,
      apiKey: key,
      endpoint: null,
      deployment: null,
    });
  });

  it.each([
    [AiProvider.OPENAI, 'sk-', (key: string) => key.replace(/^sk-/, '')],
    [AiProvider.OPENAI, 'sk-', (key: string) => `Bearer ${key}`.replace(' ', '_')],
    [AiProvider.ANTHROPIC, 'sk-ant-', (key: string) => key.replace(/^sk-ant-/, 'sk-')],
    [AiProvider.GOOGLE_GEMINI, 'AIza', (key: string) => key.replace(/^AIza/, 'aiza')],
  ])('%s: a key without its prefix %s is refused, naming the prefix', (provider, prefix, mangle) => {
    const apiKey = mangle(makeKey(provider));
    const error = rejection({ provider, apiKey });
    expect(error.field).toBe('apiKey');
    expect(error.message).toContain(`"${prefix}"`);
    expect(keyFragmentsIn(error.message + error.field, apiKey)).toEqual([]);
  });

  it.each([
    [
      AiProvider.OPENAI,
      AiProvider.ANTHROPIC,
      'This looks like a key for Anthropic (it starts with "sk-ant-"): choose Anthropic as the provider, or paste your OpenAI key (it starts with "sk-").',
    ],
    [
      AiProvider.ANTHROPIC,
      AiProvider.OPENAI,
      'This looks like a key for OpenAI (it starts with "sk-"): choose OpenAI as the provider, or paste your Anthropic key (it starts with "sk-ant-").',
    ],
    [
      AiProvider.MISTRAL,
      AiProvider.GOOGLE_GEMINI,
      'This looks like a key for Google Gemini (it starts with "AIza"): choose Google Gemini as the provider, or paste your Mistral AI key.',
    ],
    [
      AiProvider.AZURE_OPENAI,
      AiProvider.ANTHROPIC,
      'This looks like a key for Anthropic (it starts with "sk-ant-"): choose Anthropic as the provider, or paste your Azure OpenAI key.',
    ],
  ])(
    '%s: a key of %s is refused naming the provider it belongs to, without quoting it',
    (provider, other, message) => {
      const apiKey = makeKey(other);
      const input =
        provider === AiProvider.AZURE_OPENAI
          ? { provider, apiKey, endpoint: 'https://acme.openai.azure.com', deployment: 'gpt41' }
          : { provider, apiKey };
      const error = rejection(input);
      expect(error.field).toBe('apiKey');
      expect(error.message).toBe(message);
      expect(keyFragmentsIn(error.message, apiKey, [adapterFor(other).keyPrefix!])).toEqual([]);
    },
  );

  it.each([
    ['an inner space', (key: string) => `${key.slice(0, 30)} ${key.slice(30)}`, /spaces/],
    ['an inner newline', (key: string) => `${key.slice(0, 30)}\n${key.slice(30)}`, /line breaks/],
    ['a control character', (key: string) => `${key.slice(0, 30)}\u0007${key.slice(30)}`, /invisible/],
    ['a zero-width space', (key: string) => `${key.slice(0, 30)}\u200b${key.slice(30)}`, /invisible/],
    ['a non-ASCII letter', (key: string) => `${key.slice(0, 30)}é${key.slice(30)}`, /characters/],
    ['19 characters', (key: string) => key.slice(0, 19), /20 to 512/],
    ['513 characters', (key: string) => key.padEnd(513, '7'), /20 to 512/],
    ['nothing but spaces', () => '   ', /Enter the API key/],
  ])('refuses a key with %s and says what to fix', (_what, mangle, fix) => {
    for (const provider of Object.values(AiProvider)) {
      const apiKey = mangle(makeKey(provider));
      const input =
        provider === AiProvider.AZURE_OPENAI
          ? { ...azure('https://acme.openai.azure.com'), apiKey }
          : { provider, apiKey };
      const error = rejection(input);
      expect(error.field).toBe('apiKey');
      expect(error.message).toMatch(fix);
      expect(keyFragmentsIn(error.message, apiKey)).toEqual([]);
    }
  });

  it('accepts 20 and 512 characters', () => {
    const apiKey20 = 'sk-'.padEnd(20, '7');
    const apiKey512 = 'sk-'.padEnd(512, '7');
    expect(normalizeCandidate({ provider: AiProvider.OPENAI, apiKey: apiKey20 }, []).apiKey).toBe(apiKey20);
    expect(normalizeCandidate({ provider: AiProvider.OPENAI, apiKey: apiKey512 }, []).apiKey).toBe(apiKey512);
  });

  it.each([AiProvider.OPENAI, AiProvider.ANTHROPIC, AiProvider.GOOGLE_GEMINI, AiProvider.MISTRAL])(
    '%s refuses an endpoint and a deployment, but not blank ones',
    (provider) => {
      const apiKey = makeKey(provider);
      expect(rejection({ provider, apiKey, endpoint: 'https://acme.openai.azure.com' }).field).toBe(
        'endpoint',
      );
      expect(rejection({ provider, apiKey, deployment: 'gpt41' }).field).toBe('deployment');
      expect(normalizeCandidate({ provider, apiKey, endpoint: ' ', deployment: '' }, [])).toMatchObject({
        endpoint: null,
        deployment: null,
      });
    },
  );
});

describe('Azure endpoint and deployment', () => {
  it.each([
    ['https://acme.openai.azure.com', 'https://acme.openai.azure.com'],
    ['https://acme.openai.azure.com/', 'https://acme.openai.azure.com'],
    ['  https://ACME.openai.azure.com/ ', 'https://acme.openai.azure.com'],
    ['https://acme.openai.azure.com:443/', 'https://acme.openai.azure.com'],
    ['https://my-res-01.cognitiveservices.azure.com', 'https://my-res-01.cognitiveservices.azure.com'],
    ['https://acme.services.ai.azure.com/', 'https://acme.services.ai.azure.com'],
  ])('accepts %s as %s', (endpoint, normalized) => {
    expect(normalizeCandidate(azure(endpoint), []).endpoint).toBe(normalized);
  });

  it.each([
    ['no endpoint', null, /needs the resource endpoint/],
    ['a blank endpoint', '  ', /needs the resource endpoint/],
    ['no scheme', 'acme.openai.azure.com', /https:\/\//],
    ['http', 'http://acme.openai.azure.com', /https:\/\//],
    ['another scheme', 'ftp://acme.openai.azure.com', /https:\/\//],
    ['userinfo', 'https://user:pass@acme.openai.azure.com', /user name or password/],
    ['userinfo hiding the real host', 'https://acme.openai.azure.com@evil.example', /user name or password/],
    ['a port', 'https://acme.openai.azure.com:8443', /port/],
    ['a path', 'https://acme.openai.azure.com/openai/deployments/x', /path/],
    ['a query', 'https://acme.openai.azure.com/?api-version=1', /path or query/],
    ['an empty query', 'https://acme.openai.azure.com/?', /path or query/],
    ['a fragment', 'https://acme.openai.azure.com/#x', /path or query/],
    ['a backslash path', 'https://evil.example\\@acme.openai.azure.com', /own host/],
    ['a non-Azure host', 'https://api.openai.com', /own host/],
    ['a look-alike host', 'https://acme.openai.azure.com.evil.example', /own host/],
    ['a suffix without resource', 'https://openai.azure.com', /own host/],
    ['a nested resource', 'https://a.b.openai.azure.com', /own host/],
    ['a trailing dot', 'https://acme.openai.azure.com.', /own host/],
    ['an IPv4 literal', 'https://20.42.0.1', /own host/],
    ['a loopback literal', 'https://127.0.0.1', /own host/],
    ['an IPv6 literal', 'https://[::1]', /own host/],
    ['a metadata literal', 'http://169.254.169.254/latest/meta-data', /https:\/\//],
    ['localhost', 'https://localhost', /own host/],
    ['garbage', 'https://', /valid URL/],
  ])('refuses %s', (_what, endpoint, fix) => {
    const error = rejection(azure(endpoint));
    expect(error.field).toBe('endpoint');
    expect(error.message).toMatch(fix);
  });

  it('accepts http and a port only for an allowlisted host, whose form is still checked', () => {
    const allowlist = ['acme.openai.azure.com:8080', '127.0.0.1'];
    expect(normalizeCandidate(azure('http://acme.openai.azure.com:8080/'), allowlist).endpoint).toBe(
      'http://acme.openai.azure.com:8080',
    );
    expect(rejection(azure('http://acme.openai.azure.com:8081'), allowlist).message).toMatch(/https:\/\//);
    expect(rejection(azure('https://acme.openai.azure.com:8081'), allowlist).message).toMatch(/port/);
    expect(rejection(azure('http://127.0.0.1:8080'), allowlist).message).toMatch(/own host/);
  });

  it.each([['gpt-4.1'], ['prod_gpt41'], ['A'], ['x'.repeat(64)]])('accepts deployment %s', (deployment) => {
    expect(normalizeCandidate(azure('https://acme.openai.azure.com', deployment), []).deployment).toBe(
      deployment,
    );
  });

  it.each([[null], [''], ['..'], ['.hidden'], ['-x'], ['a/b'], ['a b'], ['x'.repeat(65)], ['gpt?x=1']])(
    'refuses deployment %p',
    (deployment) => {
      const error = rejection(azure('https://acme.openai.azure.com', deployment));
      expect(error.field).toBe('deployment');
    },
  );

  it('takes an Azure key without a prefix', () => {
    const candidate = normalizeCandidate(azure('https://acme.openai.azure.com'), []);
    expect(candidate.apiKey).toBe(makeKey(AiProvider.AZURE_OPENAI));
  });
});
