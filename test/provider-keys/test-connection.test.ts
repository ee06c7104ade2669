import { TestProviderKeyDocument, type TestProviderKeyInput } from '../generated/graphql';
import { AiProvider } from '../../src/providers/ai-provider.enum';
import { KeyHealth } from '../../src/providers/key-health.enum';
import {
  candidate,
  type ConnectionTest,
  type Exchange,
  DEPLOYMENT,
  exchange,
  expectError,
  expectNoKeyIn,
  expectNoNetwork,
  storedRows,
  watchOutboundConnections,
} from '../support/connection-exchange';
import { type FakeProviders, type Scenario, makeKey, mappedLookup } from '../support/fake-providers';
import {
  CASES,
  CONTRACT,
  MESSAGE,
  MISSING_MODELS,
  expectKeyOnlyInAuthHeader,
} from '../support/provider-cases';
import { describeEachDatabase } from '../support/test-app';

// "Test Connection" as the settings screen uses it: testProviderKey with a candidate key, through the
// real server and database, against the fake providers. Everything is asserted on what a client sees
// (the raw response body) and on what the fake providers saw; nothing is stored.

const { OPENAI, ANTHROPIC, GOOGLE_GEMINI, AZURE_OPENAI, MISTRAL } = AiProvider;
const PROVIDERS = Object.values(AiProvider);

watchOutboundConnections();

// Customer endpoints and where their names resolve (the injected DNS of the first app). Every name
// is a well-formed Azure host on https:443 and none is on the allowlist, so only the connect-time
// address policy stands between the service and these addresses.
const FAKE_AZURE_HOST = 'acme.openai.azure.com';
const BLOCKED_TARGETS = [
  '127.0.0.1',
  '10.0.0.1',
  '169.254.169.254',
  '100.64.0.1',
  '::1',
  '::ffff:127.0.0.1',
  '64:ff9b::a00:1',
  '0.0.0.0',
  '224.0.0.1',
];
const hostFor = (index: number) => `target-${index}.openai.azure.com`;
const lookup = mappedLookup({
  [FAKE_AZURE_HOST]: '127.0.0.1',
  // Not allowlisted, pointing at the fake's own address.
  'evil.openai.azure.com': '127.0.0.1',
  ...Object.fromEntries(BLOCKED_TARGETS.map((address, index) => [hostFor(index), address])),
});

describeEachDatabase(
  'Test Connection through the API',
  (app) => {
    let alice: string;
    beforeAll(async () => {
      alice = await app().token('user_alice', 'acct_acme');
      expect(app().providers.azureHost).toBe(FAKE_AZURE_HOST);
    });

    const test = (input: TestProviderKeyInput) => exchange(app(), input, alice, lookup);
    const testKey = (provider: AiProvider, apiKey: string) =>
      test(candidate(app().providers, provider, apiKey));

    // ---- SSRF through a customer's Azure endpoint ----------------------------------------------
    // First in this app: the control below must open the first connection to the fake's Azure host
    // (later tests leave a kept-alive one behind, which a new test would reuse without DNS).

    describe('Azure endpoint safety', () => {
      const azure = (endpoint: string, key = makeKey(AZURE_OPENAI, 'VALID', 4)) =>
        test({ provider: 'AZURE_OPENAI', apiKey: key, endpoint, deployment: DEPLOYMENT });

      it('control: the allowlisted fake endpoint, resolved by the same DNS, is connected and VALID', async () => {
        const call = await azure(app().providers.azureEndpoint);
        expect(call.result).toMatchObject({ health: KeyHealth.VALID, ok: true });
        expect(call.lookups).toContain(FAKE_AZURE_HOST);
        expect(call.attempts).toEqual([{ origin: app().providers.azureEndpoint, outcome: 'connected' }]);
        expect(call.connections).toBe(1);
      });

      it.each(BLOCKED_TARGETS.map((address, index) => [address, index] as const))(
        'an endpoint whose name resolves to %s is PROVIDER_UNREACHABLE, refused at connect time without connecting',
        async (_address, index) => {
          const key = makeKey(AZURE_OPENAI, 'VALID', 5);
          const call = await azure(`https://${hostFor(index)}`, key);
          expect(call.error).toBeUndefined();
          expect(call.result).toMatchObject({
            provider: 'AZURE_OPENAI',
            health: KeyHealth.PROVIDER_UNREACHABLE,
            ok: false,
            missingModels: [],
          });
          expect(call.result?.message).toMatch(MESSAGE[KeyHealth.PROVIDER_UNREACHABLE]);
          // The endpoint passed the input checks and was resolved when connecting, and the connection
          // failed because the outbound policy refused that address: not an input check, and not
          // because nothing listens on port 443 there (a client without any policy would also report
          // that as unreachable).
          expect(call.lookups).toContain(hostFor(index));
          expect(call.attempts).toEqual([{ origin: `https://${hostFor(index)}`, outcome: 'policy' }]);
          expect(call.requests).toEqual([]);
          expect(call.connections).toBe(0);
          expectNoKeyIn(call, key);
        },
      );

      it('the allowlisted fake host itself, on https:443 instead of its allowlisted port, is refused without connecting', async () => {
        // Same name as the control, same DNS answer (the fake's address); only the port differs, so
        // the allowlist does not apply and the loopback answer is refused.
        const call = await azure(`https://${FAKE_AZURE_HOST}`);
        expect(call.result).toMatchObject({ health: KeyHealth.PROVIDER_UNREACHABLE, ok: false });
        expect(call.lookups).toContain(FAKE_AZURE_HOST);
        expect(call.attempts).toEqual([{ origin: `https://${FAKE_AZURE_HOST}`, outcome: 'policy' }]);
        expect(call.requests).toEqual([]);
        expect(call.connections).toBe(0);
      });

      // Each of these is refused as input: no DNS, no connection. Those marked "fake" point exactly at
      // the fake's address and port, where a connection would have been answered VALID (the fake
      // routes Azure by path, whatever the host): the refusal, not a closed port, keeps them out.
      const HTTPS = /must start with https:\/\//;
      const USERINFO = /must not contain a user name or password/;
      const PORT = /must not name a port/;
      const PATH = /must not have a path or query/;
      const HOST = /must be your resource's own host, ending in \.openai\.azure\.com/;
      it.each<[string, (fake: FakeProviders) => string, RegExp]>([
        ['http', () => 'http://evil.openai.azure.com', HTTPS],
        ['http to the fake', (fake) => `http://evil.openai.azure.com:${fake.port}`, HTTPS],
        ['userinfo', () => 'https://user:secret@acme.openai.azure.com', USERINFO],
        [
          'userinfo on the allowlisted fake',
          (fake) => `http://user:secret@${FAKE_AZURE_HOST}:${fake.port}`,
          USERINFO,
        ],
        ['a port', () => 'https://evil.openai.azure.com:8443', PORT],
        ['the port of the fake', (fake) => `https://evil.openai.azure.com:${fake.port}`, PORT],
        ['a path', () => 'https://acme.openai.azure.com/openai/deployments/gpt41', PATH],
        ['a path on the allowlisted fake', (fake) => `${fake.azureEndpoint}/openai`, PATH],
        ['a query', () => 'https://acme.openai.azure.com/?api-version=2024-10-21', PATH],
        ['a non-Azure host', () => 'https://example.com', HOST],
        ['an Azure look-alike host', () => 'https://acme.openai.azure.com.example.net', HOST],
        ['an IPv4 literal', () => 'https://169.254.169.254', HOST],
        ['an IPv6 literal', () => 'https://[::1]', HOST],
        ['the allowlisted fake as an IP literal', (fake) => `http://127.0.0.1:${fake.port}`, HOST],
      ])('an endpoint with %s is BAD_USER_INPUT before any request', async (_what, endpointOf, message) => {
        const endpoint = endpointOf(app().providers);
        const key = makeKey(AZURE_OPENAI, 'VALID', 6);
        const call = await azure(endpoint, key);
        const error = expectError(call, 'BAD_USER_INPUT', { field: 'endpoint' });
        expect(error.message).toMatch(/^The Azure OpenAI endpoint /);
        expect(error.message).toMatch(message);
        expect(call.lookups).toEqual([]);
        expectNoNetwork(call);
        expectNoKeyIn(call, key);
      });

      it.each(PROVIDERS)(
        '%s: a REDIRECT answer is not followed: one request, PROVIDER_UNREACHABLE',
        async (provider) => {
          const call = await testKey(provider, makeKey(provider, 'REDIRECT', 7));
          expect(call.result).toMatchObject({ health: KeyHealth.PROVIDER_UNREACHABLE, ok: false });
          expect(call.requests.map((request) => request.url)).toEqual([CONTRACT[provider].url]);
        },
      );
    });

    // ---- every health of every provider ------------------------------------------------------

    const cases: [AiProvider, Scenario, KeyHealth, string[]][] = [
      ...CASES.map(([provider, scenario, health]): [AiProvider, Scenario, KeyHealth, string[]] => [
        provider,
        scenario,
        health,
        [],
      ]),
      ...PROVIDERS.map((provider): [AiProvider, Scenario, KeyHealth, string[]] => [
        provider,
        'NOMODEL',
        KeyHealth.VALID,
        MISSING_MODELS[provider],
      ]),
    ];

    describe.each(cases)('%s key answered %s', (provider, scenario, health, missing) => {
      const key = makeKey(provider, scenario);
      let call: Exchange;
      beforeAll(async () => {
        call = await testKey(provider, key);
      });

      it(`answers ${health}${missing.length ? ' with missing models' : ''}, with our own message`, () => {
        expect(call.error).toBeUndefined();
        expect(call.result).toEqual({
          provider,
          health,
          ok: health === KeyHealth.VALID && missing.length === 0,
          message: expect.stringMatching(MESSAGE[health]),
          missingModels: missing,
          latencyMs: expect.any(Number),
          testedAt: expect.any(String),
          deep: false, // the default: no billed request
          key: null, // a candidate: nothing stored
        });
        const result = call.result as ConnectionTest;
        for (const model of missing) expect(result.message).toContain(model);
        expect(Number.isInteger(result.latencyMs)).toBe(true);
        expect(result.latencyMs).toBeGreaterThanOrEqual(0);
        expect(result.latencyMs).toBeLessThanOrEqual(call.elapsedMs + 1);
        expect(new Date(result.testedAt).toISOString()).toBe(result.testedAt);
        expect(Date.parse(result.testedAt)).toBeGreaterThanOrEqual(call.startedAt);
        expect(Date.parse(result.testedAt)).toBeLessThanOrEqual(call.finishedAt);
      });

      it('made exactly one request, at the contract URL, with the key only in the documented header', () => {
        expect(call.requests).toHaveLength(1);
        expect(call.requests[0].url).toBe(CONTRACT[provider].url);
        expectKeyOnlyInAuthHeader(call.requests[0], provider, key);
      });

      it('stores nothing', async () => {
        expect(await storedRows(app())).toEqual({ keys: 0, events: 0 });
      });

      it('shows no piece of the key in the response or the logs, although the provider echoed it', () => {
        expectNoKeyIn(call, key, scenario);
      });
    });

    // ---- what the customer typed ---------------------------------------------------------------

    describe('key input', () => {
      it.each(PROVIDERS)('%s: a key with surrounding whitespace is trimmed and works', async (provider) => {
        const key = makeKey(provider, 'VALID', 1);
        const call = await testKey(provider, `\n  ${key} \t`);
        expect(call.result).toMatchObject({ provider, health: KeyHealth.VALID, ok: true });
        expect(call.requests).toHaveLength(1);
        expect(call.requests[0].headers[CONTRACT[provider].authHeader]).toBe(CONTRACT[provider].auth(key));
        expectNoKeyIn(call, key);
      });

      it.each([
        [OPENAI, 'sk-'],
        [ANTHROPIC, 'sk-ant-'],
        [GOOGLE_GEMINI, 'AIza'],
      ])(
        '%s: a key without its prefix %s is BAD_USER_INPUT saying what to fix, before any connection',
        async (provider, prefix) => {
          const full = makeKey(provider, 'VALID', 2);
          expect(full.startsWith(prefix)).toBe(true);
          const key = full.slice(prefix.length);
          const call = await testKey(provider, key);
          const error = expectError(call, 'BAD_USER_INPUT', { field: 'apiKey' });
          expect(error.message).toContain(`start with "${prefix}"`);
          expect(error.message).toMatch(/paste the secret key itself/);
          expectNoNetwork(call);
          expectNoKeyIn(call, key);
        },
      );

      const base = makeKey(MISTRAL, 'VALID', 3);
      const openAi = makeKey(OPENAI, 'VALID', 3);
      it.each([
        [
          'an inner space',
          OPENAI,
          `${openAi.slice(0, 20)} ${openAi.slice(20)}`,
          /spaces, line breaks or invisible/,
        ],
        [
          'an inner tab',
          MISTRAL,
          `${base.slice(0, 16)}\t${base.slice(16)}`,
          /spaces, line breaks or invisible/,
        ],
        [
          'an inner line break',
          ANTHROPIC,
          `${makeKey(ANTHROPIC).slice(0, 50)}\r\n${makeKey(ANTHROPIC).slice(50)}`,
          /spaces, line breaks or invisible/,
        ],
        ['a NUL', MISTRAL, `${base.slice(0, 16)}\u0000${base.slice(16)}`, /spaces, line breaks or invisible/],
        ['a DEL', MISTRAL, `${base.slice(0, 16)}\u007f${base.slice(16)}`, /spaces, line breaks or invisible/],
        [
          'a zero-width space',
          GOOGLE_GEMINI,
          `${makeKey(GOOGLE_GEMINI).slice(0, 20)}\u200b${makeKey(GOOGLE_GEMINI).slice(20)}`,
          /spaces, line breaks or invisible/,
        ],
        ['19 characters', MISTRAL, base.slice(0, 19), /20 to 512 characters/],
        ['19 characters with its prefix', OPENAI, openAi.slice(0, 19), /20 to 512 characters/],
        [
          '513 characters',
          OPENAI,
          `${openAi}${openAi}${openAi}${openAi}${openAi}`.slice(0, 513),
          /20 to 512 characters/,
        ],
        ['5000 characters', MISTRAL, base.repeat(160).slice(0, 5000), /too long/],
      ])('a key with %s is BAD_USER_INPUT, before any connection', async (_what, provider, key, message) => {
        const call = await testKey(provider, key);
        const error = expectError(call, 'BAD_USER_INPUT');
        expect(error.message).toMatch(message);
        expectNoNetwork(call);
        expectNoKeyIn(call, key);
      });
    });

    // ---- who may test --------------------------------------------------------------------------

    describe('access', () => {
      const key = makeKey(OPENAI, 'VALID', 8);
      it.each([
        ['user_bob, a MEMBER,', 'FORBIDDEN', 'user_bob', 'acct_acme'],
        ['user_ivan, an ADMIN on STARTER,', 'PLAN_UPGRADE_REQUIRED', 'user_ivan', 'acct_initech'],
        ['a request without a token', 'UNAUTHENTICATED', undefined, undefined],
      ])('%s gets %s without a request to the provider', async (_who, code, userId, accountId) => {
        const token = userId && accountId ? await app().token(userId, accountId) : undefined;
        const call = await exchange(app(), candidate(app().providers, OPENAI, key), token, lookup);
        expectError(call, code);
        expectNoNetwork(call);
        expectNoKeyIn(call, key);
      });
    });
  },
  {
    // Far more tests than the default 10 a minute run here; the limit has its own app below.
    env: { TEST_RATE_LIMIT_PER_MINUTE: '1000' },
    overrides: { lookup },
  },
);

// Its own app: after a test times out, undici opens one more connection to the provider (sending
// nothing on it), which would show up in the exact connection counts asserted above.
describeEachDatabase(
  'Test Connection to a slow provider',
  (app) => {
    it('answers PROVIDER_UNREACHABLE within the timeout + 1 s, and never retries (every provider)', async () => {
      // PROVIDER_TIMEOUT_MS 1000; the fake's SLOW answers after 5000 ms. Run side by side to keep
      // the suite fast; each call is timed on its own, by the client, around the GraphQL call.
      const alice = await app().token('user_alice', 'acct_acme');
      const fake = app().providers;
      fake.reset();
      const calls = await Promise.all(
        PROVIDERS.map(async (provider) => {
          const started = Date.now();
          const body = await app().gql(
            TestProviderKeyDocument,
            { input: candidate(fake, provider, makeKey(provider, 'SLOW')) },
            alice,
          );
          return { provider, elapsed: Date.now() - started, body };
        }),
      );
      for (const { provider, elapsed, body } of calls) {
        expect(body.errors).toBeUndefined();
        expect(body.data?.testProviderKey).toMatchObject({
          provider,
          health: KeyHealth.PROVIDER_UNREACHABLE,
          ok: false,
        });
        expect(body.data?.testProviderKey.message).toMatch(MESSAGE[KeyHealth.PROVIDER_UNREACHABLE]);
        expect(elapsed).toBeGreaterThanOrEqual(900); // the provider was waited for, not refused at once
        expect(elapsed).toBeLessThan(2000);
      }
      // One request per provider, and none later: no retry after the deadline.
      await new Promise((resolve) => setTimeout(resolve, 250));
      expect(fake.requests.map((request) => request.url).sort()).toEqual(
        PROVIDERS.map((provider) => CONTRACT[provider].url).sort(),
      );
    });
  },
  { env: { PROVIDER_TIMEOUT_MS: '1000' }, slowMs: 5000 },
);

describeEachDatabase(
  'Test Connection, many at once',
  (app) => {
    it('runs 50 tests against a provider that takes 500 ms side by side: all VALID, each key sent once', async () => {
      const alice = await app().token('user_alice', 'acct_acme');
      const fake = app().providers;
      fake.reset();
      // Distinct keys (makeKey repeats itself every 10 seeds), so a mix-up between requests would show.
      const keys = Array.from(
        { length: 50 },
        (_, i) => `${makeKey(OPENAI, 'DELAY500').slice(0, -2)}${String(i).padStart(2, '0')}`,
      );
      const started = Date.now();
      const bodies = await Promise.all(
        keys.map((apiKey) =>
          app().gql(TestProviderKeyDocument, { input: { provider: 'OPENAI', apiKey } }, alice),
        ),
      );
      const elapsed = Date.now() - started;
      expect(bodies.map((body) => body.errors)).toEqual(Array(50).fill(undefined));
      expect(bodies.map((body) => body.data?.testProviderKey.health)).toEqual(
        Array(50).fill(KeyHealth.VALID),
      );
      expect(elapsed).toBeGreaterThanOrEqual(500); // the fake's delay really applied
      // One after the other would take 50 × 500 ms = 25 s. The bound proves the tests run side by
      // side (concurrency), not that they are fast; it leaves room for a loaded machine.
      expect(elapsed).toBeLessThan(10_000);
      expect(fake.requests.map((request) => request.headers.authorization).sort()).toEqual(
        keys.map((key) => `Bearer ${key}`).sort(),
      );
    });
  },
  { env: { TEST_RATE_LIMIT_PER_MINUTE: '1000' } },
);

describeEachDatabase('Test Connection rate limit', (app) => {
  it('allows 10 tests a minute per account, then RATE_LIMITED with a retry delay; other accounts go on', async () => {
    // This app runs with the default TEST_RATE_LIMIT_PER_MINUTE (10).
    const alice = await app().token('user_alice', 'acct_acme');
    const gina = await app().token('user_gina', 'acct_globex');
    const key = makeKey(OPENAI, 'VALID', 9);
    const input = candidate(app().providers, OPENAI, key);
    app().providers.reset();

    for (let i = 0; i < 10; i++) {
      const body = await app().gql(TestProviderKeyDocument, { input }, alice);
      expect({ i, errors: body.errors, health: body.data?.testProviderKey.health }).toEqual({
        i,
        errors: undefined,
        health: KeyHealth.VALID,
      });
    }
    expect(app().providers.requests).toHaveLength(10);
    const eleventh = await exchange(app(), input, alice);
    const error = expectError(eleventh, 'RATE_LIMITED');
    const retryAfter = error.extensions?.retryAfterSeconds;
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expectNoNetwork(eleventh); // so the fake saw exactly the 10 allowed tests
    expectNoKeyIn(eleventh, key);

    // Another account has its own allowance.
    const other = await exchange(app(), input, gina);
    expect(other.result).toMatchObject({ health: KeyHealth.VALID, ok: true });
    expect(other.requests).toHaveLength(1);
  });
});
