import { AddProviderKeyDocument, ProviderKeyEventsDocument } from '../generated/graphql';
import { AiProvider } from '../../src/providers/ai-provider.enum';
import { KeyHealth } from '../../src/providers/key-health.enum';
import {
  candidate,
  DEPLOYMENT,
  exchange,
  expectError,
  expectNoKeyIn,
  expectNoNetwork,
  type Exchange,
} from '../support/connection-exchange';
import { makeKey, type Scenario, UNSERVED_MODELS } from '../support/fake-providers';
import {
  billedModelOf,
  CONTRACT,
  DEEP_MODELS,
  expectBilledRequest,
  MESSAGE,
} from '../support/provider-cases';
import { describeEachDatabase } from '../support/test-app';

// testProviderKey with deep: true, as an admin uses it to see whether the account behind a key still
// has credit: the model list, then one billed request per needed model, through the real server and
// database against the fake providers. Asserted on the response as sent and on what the fake saw.

const PROVIDERS = Object.values(AiProvider);
const { AZURE_OPENAI } = AiProvider;

/** Everything a deep test of this provider's key must have sent: the list, then one billed request per model. */
function expectDeepRequests(call: Exchange, provider: AiProvider, key: string): void {
  const [list, ...billed] = call.requests;
  expect(list).toMatchObject({ method: 'GET', url: CONTRACT[provider].url });
  expect(billed.map(billedModelOf).sort()).toEqual(
    provider === AZURE_OPENAI ? [undefined] : [...DEEP_MODELS[provider]].sort(),
  );
  for (const request of billed) {
    expectBilledRequest(request, provider, key, billedModelOf(request) ?? '', DEPLOYMENT);
  }
}

describeEachDatabase(
  'Deep test through the API',
  (app) => {
    let alice: string;
    beforeAll(async () => {
      alice = await app().token('user_alice', 'acct_acme');
    });
    const deepTest = (provider: AiProvider, scenario: Scenario) => {
      const key = makeKey(provider, scenario);
      return exchange(app(), { ...candidate(app().providers, provider, key), deep: true }, alice).then(
        (call) => ({ call, key }),
      );
    };

    describe.each(PROVIDERS)('%s', (provider) => {
      it('passes a key whose account can pay: one token asked of each needed model, the key only in its header', async () => {
        const { call, key } = await deepTest(provider, 'VALID');
        expect(call.error).toBeUndefined();
        expect(call.result).toMatchObject({
          provider,
          ok: true,
          health: KeyHealth.VALID,
          deep: true,
          missingModels: [],
          key: null,
        });
        expectDeepRequests(call, provider, key);
        expectNoKeyIn(call, key);
      });

      it('finds an account out of credit, which the model list alone passes: QUOTA_EXCEEDED', async () => {
        const { call, key } = await deepTest(provider, 'NOCREDIT');
        expect(call.result).toMatchObject({ ok: false, health: KeyHealth.QUOTA_EXCEEDED, deep: true });
        expect(call.result?.message).toMatch(
          provider === AiProvider.MISTRAL ? /free tier or quota.*revoked/ : MESSAGE[KeyHealth.QUOTA_EXCEEDED],
        );
        expectDeepRequests(call, provider, key);
        expectNoKeyIn(call, key, 'NOCREDIT');

        // The same key without deep: the list passes, no request is billed.
        const shallow = await exchange(app(), candidate(app().providers, provider, key), alice);
        expect(shallow.result).toMatchObject({ ok: true, health: KeyHealth.VALID, deep: false });
        expect(shallow.requests.map((request) => request.method)).toEqual(['GET']);
      });

      it(
        provider === AZURE_OPENAI
          ? 'names a deployment that does not exist: INSUFFICIENT_PERMISSIONS'
          : 'lists a model the key may not call under missingModels',
        async () => {
          const { call, key } = await deepTest(provider, 'UNSERVED');
          if (provider === AZURE_OPENAI) {
            expect(call.result).toMatchObject({
              ok: false,
              health: KeyHealth.INSUFFICIENT_PERMISSIONS,
              deep: true,
              missingModels: [],
            });
            expect(call.result?.message).toContain(`no deployment named "${DEPLOYMENT}"`);
          } else {
            expect(call.result).toMatchObject({
              ok: false,
              health: KeyHealth.VALID,
              deep: true,
              missingModels: [UNSERVED_MODELS[provider]],
            });
            expect(call.result?.message).toContain(UNSERVED_MODELS[provider]);
          }
          expectDeepRequests(call, provider, key);
          expectNoKeyIn(call, key, 'UNSERVED');
        },
      );
    });

    it('a deep test of the stored key records what it found, with a TESTED event', async () => {
      const gina = await app().token('user_gina', 'acct_globex');
      const key = makeKey(AiProvider.OPENAI, 'NOCREDIT', 3);
      const added = await app().gql(
        AddProviderKeyDocument,
        { input: { provider: 'OPENAI', apiKey: key } },
        gina,
      );
      expect(added.data?.addProviderKey.health).toBe(KeyHealth.VALID); // the list passes on save

      const call = await exchange(app(), { provider: 'OPENAI', deep: true }, gina);
      expect(call.result).toMatchObject({ ok: false, health: KeyHealth.QUOTA_EXCEEDED, deep: true });
      expect(call.result?.key).toMatchObject({
        health: KeyHealth.QUOTA_EXCEEDED,
        lastTestMessage: call.result?.message,
      });
      expectDeepRequests(call, AiProvider.OPENAI, key);
      expectNoKeyIn(call, key, 'NOCREDIT');
      const events = await app().gql(ProviderKeyEventsDocument, { first: 1 }, gina);
      expect(events.data?.providerKeyEvents.edges[0].node).toMatchObject({
        action: 'TESTED',
        health: KeyHealth.QUOTA_EXCEEDED,
      });
    });
  },
  { env: { TEST_RATE_LIMIT_PER_MINUTE: '1000' } },
);

describeEachDatabase(
  'Deep test and the rate limit',
  (app) => {
    it('counts as one test however many requests it bills', async () => {
      const alice = await app().token('user_alice', 'acct_acme');
      const key = makeKey(AiProvider.OPENAI, 'VALID', 5);
      const input = { ...candidate(app().providers, AiProvider.OPENAI, key), deep: true };
      for (let i = 0; i < 2; i++) {
        const call = await exchange(app(), input, alice);
        expect({ i, deep: call.result?.deep, requests: call.requests.length }).toEqual({
          i,
          deep: true,
          requests: 1 + DEEP_MODELS.OPENAI.length,
        });
      }
      const third = await exchange(app(), input, alice);
      expectError(third, 'RATE_LIMITED');
      expectNoNetwork(third);
    });
  },
  { env: { TEST_RATE_LIMIT_PER_MINUTE: '2' } },
);
