import { AiProvider } from '../../src/providers/ai-provider.enum';
import { KeyHealth } from '../../src/providers/key-health.enum';
import { ConnectionTester, type ProviderSettings } from '../../src/providers/connection-tester';
import { normalizeCandidate } from '../../src/providers/adapters';
import { MAX_BODY_BYTES, OutboundClient } from '../../src/providers/outbound-client';
import {
  type FakeLookup,
  type FakeProviders,
  type Scenario,
  makeKey,
  mappedLookup,
  rebindingLookup,
  startFakeProviders,
} from '../support/fake-providers';

// What keeps a connection test from hanging, flooding or being aimed at our own network: deadlines,
// the body cap, no redirects, parallel tests, and the outbound policy checked at connect time.

let fake: FakeProviders;
const testers: ConnectionTester[] = [];
const clients: OutboundClient[] = [];

beforeAll(async () => {
  fake = await startFakeProviders({ slowMs: 4000 });
});
afterAll(async () => {
  await Promise.all([...testers, ...clients].map((closable) => closable.close()));
  await fake.close();
});
beforeEach(() => fake.reset());

function newTester(overrides: Partial<ProviderSettings> = {}): ConnectionTester {
  const tester = new ConnectionTester({
    baseUrls: fake.baseUrls,
    timeoutMs: 1000,
    outboundAllowlist: fake.allowlist,
    lookup: fake.lookup,
    ...overrides,
  });
  testers.push(tester);
  return tester;
}

function candidateFor(provider: AiProvider, scenario: Scenario = 'VALID', endpoint = fake.azureEndpoint) {
  const azure = provider === AiProvider.AZURE_OPENAI;
  return normalizeCandidate(
    {
      provider,
      apiKey: makeKey(provider, scenario),
      endpoint: azure ? endpoint : null,
      deployment: azure ? 'gpt41' : null,
    },
    fake.allowlist,
  );
}

async function waitFor(condition: () => boolean, ms = 2000): Promise<boolean> {
  const until = Date.now() + ms;
  while (!condition() && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
  return condition();
}

describe('deadlines and body limits', () => {
  it.each(Object.values(AiProvider))(
    '%s: a provider slower than the timeout is PROVIDER_UNREACHABLE within timeout + 1 s',
    async (provider) => {
      const tester = newTester({ timeoutMs: 1000 });
      const started = Date.now();
      const result = await tester.test(candidateFor(provider, 'SLOW'));
      const elapsed = Date.now() - started;
      expect(result).toMatchObject({ health: KeyHealth.PROVIDER_UNREACHABLE, ok: false });
      expect(elapsed).toBeGreaterThanOrEqual(900);
      expect(elapsed).toBeLessThan(2000);
      expect(fake.requests).toHaveLength(1); // no retry after the timeout
    },
  );

  it('cuts a body that drips slowly at the deadline and closes the stream', async () => {
    const tester = newTester({ timeoutMs: 1000 });
    const started = Date.now();
    const result = await tester.test(candidateFor(AiProvider.OPENAI, 'DRIP'));
    expect(result.health).toBe(KeyHealth.PROVIDER_UNREACHABLE);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await waitFor(() => fake.openStreams === 0)).toBe(true);
  });

  it('stops reading an endless body after 1 MiB, long before the deadline, and drops the connection', async () => {
    const tester = newTester({ timeoutMs: 10_000 });
    const started = Date.now();
    const result = await tester.test(candidateFor(AiProvider.MISTRAL, 'ENDLESS'));
    expect(result).toMatchObject({ health: KeyHealth.PROVIDER_ERROR, ok: false });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await waitFor(() => fake.openStreams === 0)).toBe(true);
  });

  it('reports an endless body as oversized from the outbound client', async () => {
    const client = new OutboundClient({ timeoutMs: 10_000, allowlist: fake.allowlist });
    clients.push(client);
    const key = makeKey(AiProvider.OPENAI, 'ENDLESS');
    const outcome = await client.get(
      `${fake.baseUrls.OPENAI}/models`,
      { authorization: `Bearer ${key}` },
      AbortSignal.timeout(10_000),
    );
    expect(outcome).toEqual({ kind: 'oversized' });
    expect(MAX_BODY_BYTES).toBe(1024 * 1024);
  });

  it('runs 50 tests against a 500 ms provider in parallel', async () => {
    const tester = newTester({ timeoutMs: 10_000 });
    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: 50 }, () => tester.test(candidateFor(AiProvider.OPENAI, 'DELAY500'))),
    );
    const elapsed = Date.now() - started;
    expect(results.map((result) => result.health)).toEqual(Array(50).fill(KeyHealth.VALID));
    expect(elapsed).toBeLessThan(5000); // one after the other would take 25 s
    expect(fake.requests).toHaveLength(50);
    expect(fake.connections).toBeGreaterThan(10);
  });
});

describe('redirects', () => {
  it.each(Object.values(AiProvider))(
    '%s: a redirect is not followed and is PROVIDER_UNREACHABLE',
    async (provider) => {
      const result = await newTester().test(candidateFor(provider, 'REDIRECT'));
      expect(result.health).toBe(KeyHealth.PROVIDER_UNREACHABLE);
      expect(fake.requests).toHaveLength(1);
      expect(fake.requests.some((request) => request.url.includes('redirect-target'))).toBe(false);
    },
  );
});

describe('outbound policy: scheme, port and allowlist', () => {
  it('refuses plain http to a host that is not allowlisted, without connecting', async () => {
    const tester = newTester({ outboundAllowlist: [] });
    const result = await tester.test(candidateFor(AiProvider.OPENAI));
    expect(result.health).toBe(KeyHealth.PROVIDER_UNREACHABLE);
    expect(fake.connections).toBe(0);
  });

  it('refuses an allowlist entry for another port, without connecting', async () => {
    const tester = newTester({ outboundAllowlist: [`127.0.0.1:${fake.port + 1}`] });
    const result = await tester.test(candidateFor(AiProvider.MISTRAL));
    expect(result.health).toBe(KeyHealth.PROVIDER_UNREACHABLE);
    expect(fake.connections).toBe(0);
  });

  it('lets a host-only allowlist entry through on any port', async () => {
    const tester = newTester({ outboundAllowlist: ['127.0.0.1'] });
    const result = await tester.test(candidateFor(AiProvider.MISTRAL));
    expect(result.health).toBe(KeyHealth.VALID);
    expect(fake.connections).toBe(1);
  });

  it.each([
    ['http://127.0.0.1/', 'http'],
    ['https://127.0.0.1:8443/', 'a port other than 443'],
    ['https://127.0.0.1/', 'loopback literal'],
    ['https://10.0.0.1/', 'private literal'],
    ['https://169.254.169.254/', 'metadata literal'],
    ['https://[::1]/', 'IPv6 loopback literal'],
    ['https://[::ffff:7f00:1]/', 'IPv4-mapped literal'],
    ['https://[64:ff9b::a9fe:a9fe]/', 'NAT64 metadata literal'],
    ['https://0x7f.1/', 'loopback in hex'],
  ])('the outbound client refuses %s (%s) by policy', async (url) => {
    const client = new OutboundClient({ timeoutMs: 2000, allowlist: [], lookup: mappedLookup({}) });
    clients.push(client);
    expect(await client.get(url, {}, AbortSignal.timeout(2000))).toEqual({
      kind: 'unreachable',
      cause: 'policy',
    });
  });
});

describe('outbound policy: where a customer endpoint resolves', () => {
  const endpoint = 'https://acme.openai.azure.com'; // port 443 and not allowlisted: the policy applies
  const targets = [
    '127.0.0.1',
    '10.0.0.1',
    '172.16.5.4',
    '192.168.0.10',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '192.0.2.10',
    '::1',
    '::',
    'fe80::1',
    'fd00::1',
    '::ffff:127.0.0.1',
    '::ffff:169.254.169.254',
    '64:ff9b::7f00:1',
    '2002:7f00:1::',
  ];

  async function probe(lookup: FakeLookup) {
    const client = new OutboundClient({ timeoutMs: 2000, allowlist: fake.allowlist, lookup });
    clients.push(client);
    return client.get(
      `${endpoint}/openai/models?api-version=2024-10-21`,
      { 'api-key': makeKey(AiProvider.AZURE_OPENAI) },
      AbortSignal.timeout(2000),
    );
  }

  it.each(targets)(
    'a name resolving to %s is PROVIDER_UNREACHABLE, refused at connect time',
    async (address) => {
      const lookup = mappedLookup({ 'acme.openai.azure.com': address });
      const tester = newTester({ lookup, timeoutMs: 2000 });
      const result = await tester.test(candidateFor(AiProvider.AZURE_OPENAI, 'VALID', endpoint));
      expect(result).toMatchObject({ health: KeyHealth.PROVIDER_UNREACHABLE, ok: false });
      expect(lookup.calls).toContain('acme.openai.azure.com');
      expect(fake.connections).toBe(0);
      // The refusal is the policy's, not a closed port 443 on that address.
      expect(await probe(mappedLookup({ 'acme.openai.azure.com': address }))).toEqual({
        kind: 'unreachable',
        cause: 'policy',
      });
    },
  );

  it('refuses an answer that mixes a public decoy with a private address', async () => {
    expect(await probe(mappedLookup({ 'acme.openai.azure.com': ['20.42.0.1', '127.0.0.1'] }))).toEqual({
      kind: 'unreachable',
      cause: 'policy',
    });
  });

  it('judges the address resolved at connect time, not an earlier answer (DNS rebinding)', async () => {
    const lookup = rebindingLookup('20.42.0.1', '127.0.0.1');
    // Someone (a validation step, a cache) resolved the name first and saw a public address...
    await new Promise((resolve) => lookup('acme.openai.azure.com', resolve));
    // ...and by the time the test connects, the name points at loopback.
    expect(await probe(lookup)).toEqual({ kind: 'unreachable', cause: 'policy' });
    expect(lookup.calls).toEqual(['acme.openai.azure.com', 'acme.openai.azure.com']);
  });

  it('still connects an allowlisted endpoint that resolves to loopback (how operators reach fakes)', async () => {
    const result = await newTester().test(candidateFor(AiProvider.AZURE_OPENAI));
    expect(result.health).toBe(KeyHealth.VALID);
    expect(fake.connections).toBe(1);
  });

  it('never throws for an unresolvable host', async () => {
    const tester = newTester({ lookup: mappedLookup({}) });
    const result = await tester.test(
      candidateFor(AiProvider.AZURE_OPENAI, 'VALID', 'https://nowhere.openai.azure.com'),
    );
    expect(result.health).toBe(KeyHealth.PROVIDER_UNREACHABLE);
  });
});
