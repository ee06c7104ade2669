import {
  AddProviderKeyDocument,
  AiProvidersDocument,
  AiProvidersWithKeysDocument,
  AiSettingsDocument,
  RemoveProviderKeyDocument,
} from '../generated/graphql';
import { Account } from '../../src/accounts/account.entity';
import { Plan } from '../../src/accounts/plan.enum';
import { AiProvider } from '../../src/providers/ai-provider.enum';
import { AiTask } from '../../src/providers/ai-task.enum';
import { adapterFor } from '../../src/providers/adapters';
import { ProviderKey } from '../../src/provider-keys/provider-key.entity';
import { makeKey } from '../support/fake-providers';
import { describeEachDatabase, startTestApp } from '../support/test-app';

// Where each AI task goes: the customer's own key while the plan allows BYOK, else the built-in allocation.
// Every case of the routing rule, with its reason, is routing-cases.test.ts; these are the resolver's details.

const BUILTIN_KEY = 'sk-builtin-allocation-000000000000000000000';
const TASKS = Object.values(AiTask);

describeEachDatabase(
  'routing and the credential resolver',
  (app) => {
    let alice: string;
    let bob: string;
    beforeAll(async () => {
      alice = await app().token('user_alice', 'acct_acme');
      bob = await app().token('user_bob', 'acct_acme');
    });
    afterEach(async () => {
      await app().dataSource.getRepository(ProviderKey).clear();
      await app().dataSource.getRepository(Account).update({ id: 'acct_acme' }, { plan: Plan.GROWTH });
      app().providers.reset();
    });

    const add = (provider: AiProvider, apiKey: string, extra: Record<string, unknown> = {}) =>
      app().gql(AddProviderKeyDocument, { input: { provider, apiKey, verify: false, ...extra } }, alice);
    const routes = async (token = bob) => (await app().gql(AiSettingsDocument, {}, token)).data!.aiSettings;

    it('routes every task to the built-in allocation when the account has no key', async () => {
      const settings = await routes();
      expect(settings).toMatchObject({ plan: 'GROWTH', byokAvailable: true });
      expect(settings.routes).toEqual(
        TASKS.map((task) => ({
          task,
          provider: 'MISTRAL',
          model: adapterFor(AiProvider.MISTRAL).models[task],
          billingMode: 'BUILT_IN',
          health: null,
          status: 'BUILT_IN',
          keyId: null,
          reason: "No provider key is stored, so the platform's built-in allocation (Mistral AI) is used.",
        })),
      );
      const credential = await app().resolveCredential('acct_acme', AiTask.ANALYSIS);
      expect(credential).toMatchObject({
        provider: 'MISTRAL',
        billingMode: 'BUILT_IN',
        apiKey: BUILTIN_KEY,
        endpoint: null,
      });
    });

    it('routes to the one stored key, and the resolver hands a pipeline the exact key that was added', async () => {
      const apiKey = makeKey(AiProvider.ANTHROPIC);
      const added = await add(AiProvider.ANTHROPIC, ` ${apiKey} `);
      expect((await routes()).routes).toEqual(
        TASKS.map((task) => ({
          task,
          provider: 'ANTHROPIC',
          model: adapterFor(AiProvider.ANTHROPIC).models[task],
          billingMode: 'BYOK',
          health: 'UNTESTED',
          status: 'BYOK_KEY',
          keyId: added.data!.addProviderKey.id,
          reason: 'Your Anthropic key is used (it has not been tested yet).',
        })),
      );
      const credential = await app().resolveCredential('acct_acme', AiTask.INTERVIEW_CONVERSATION);
      expect(credential).toMatchObject({
        provider: 'ANTHROPIC',
        model: 'claude-sonnet-4-5',
        billingMode: 'BYOK',
        apiKey,
      });
      // A pipeline's call carries it in the provider's own header.
      await fetch(`${app().providers.baseUrls.ANTHROPIC}/v1/models?limit=1000`, {
        headers: { 'x-api-key': credential.apiKey, 'anthropic-version': '2023-06-01' },
      });
      expect(app().providers.requests.map((request) => request.headers['x-api-key'])).toEqual([apiKey]);
    });

    it("routes to the first provider in the contract's order when several keys are stored", async () => {
      await add(AiProvider.MISTRAL, makeKey(AiProvider.MISTRAL));
      await add(AiProvider.GOOGLE_GEMINI, makeKey(AiProvider.GOOGLE_GEMINI));
      expect(new Set((await routes()).routes.map((route) => route.provider))).toEqual(
        new Set(['GOOGLE_GEMINI']),
      );
      await add(AiProvider.OPENAI, makeKey(AiProvider.OPENAI));
      expect((await routes()).routes.map((route) => [route.provider, route.model])).toEqual(
        TASKS.map((task) => ['OPENAI', adapterFor(AiProvider.OPENAI).models[task]]),
      );
    });

    it("uses an Azure key's deployment as the model, with its endpoint in the credential", async () => {
      const apiKey = makeKey(AiProvider.AZURE_OPENAI);
      await add(AiProvider.AZURE_OPENAI, apiKey, {
        endpoint: app().providers.azureEndpoint,
        deployment: 'research-gpt41',
      });
      expect(
        (await routes()).routes.every(
          (route) => route.provider === 'AZURE_OPENAI' && route.model === 'research-gpt41',
        ),
      ).toBe(true);
      const credential = await app().resolveCredential('acct_acme', AiTask.INSIGHT_GENERATION);
      expect(credential).toMatchObject({
        model: 'research-gpt41',
        apiKey,
        endpoint: app().providers.azureEndpoint,
      });
    });

    it('switches to BUILT_IN at once when the key is removed or the plan drops below GROWTH', async () => {
      const apiKey = makeKey(AiProvider.OPENAI);
      await add(AiProvider.OPENAI, apiKey);
      expect((await app().resolveCredential('acct_acme', AiTask.ANALYSIS)).apiKey).toBe(apiKey);

      await app().dataSource.getRepository(Account).update({ id: 'acct_acme' }, { plan: Plan.STARTER });
      const dormant = await routes();
      expect(dormant).toMatchObject({ plan: 'STARTER', byokAvailable: false });
      expect(
        dormant.routes.every((route) => route.billingMode === 'BUILT_IN' && route.provider === 'MISTRAL'),
      ).toBe(true);
      expect(await app().resolveCredential('acct_acme', AiTask.ANALYSIS)).toMatchObject({
        billingMode: 'BUILT_IN',
        apiKey: BUILTIN_KEY,
      });

      await app().dataSource.getRepository(Account).update({ id: 'acct_acme' }, { plan: Plan.GROWTH });
      expect((await app().resolveCredential('acct_acme', AiTask.ANALYSIS)).apiKey).toBe(apiKey);
      await app().gql(RemoveProviderKeyDocument, { provider: 'OPENAI' }, alice);
      expect(await app().resolveCredential('acct_acme', AiTask.ANALYSIS)).toMatchObject({
        billingMode: 'BUILT_IN',
        provider: 'MISTRAL',
        apiKey: BUILTIN_KEY,
      });
    });

    it('fails with a clear error for an unknown account', async () => {
      await expect(app().resolveCredential('acct_nope', AiTask.ANALYSIS)).rejects.toThrow(
        'No account acct_nope.',
      );
    });

    it('shows every member the provider dropdown, and the stored key to admins only', async () => {
      const apiKey = makeKey(AiProvider.OPENAI);
      await add(AiProvider.OPENAI, apiKey);
      const options = (await app().gql(AiProvidersDocument, {}, bob)).data!.aiProviders;
      expect(options.map((option) => option.provider)).toEqual([
        'OPENAI',
        'ANTHROPIC',
        'GOOGLE_GEMINI',
        'AZURE_OPENAI',
        'MISTRAL',
      ]);
      expect(options[0]).toEqual({
        id: 'OPENAI',
        provider: 'OPENAI',
        displayName: 'OpenAI',
        keyHint: adapterFor(AiProvider.OPENAI).keyHint,
        requiresEndpoint: false,
        billingMode: 'BYOK',
      });
      expect(options.find((option) => option.provider === 'AZURE_OPENAI')).toMatchObject({
        requiresEndpoint: true,
        billingMode: 'BUILT_IN',
      });

      // A member who selects the key gets null for it, without an error (contract, second version).
      const asMember = await app().gql(AiProvidersWithKeysDocument, {}, bob);
      expect(asMember.errors).toBeUndefined();
      expect(asMember.data!.aiProviders.map((option) => option.key)).toEqual([null, null, null, null, null]);
      expect(JSON.stringify(asMember)).not.toContain(apiKey.slice(-4));

      const asAdmin = (await app().gql(AiProvidersWithKeysDocument, {}, alice)).data!.aiProviders;
      expect(asAdmin[0].key).toMatchObject({
        maskedKey: `****${apiKey.slice(-4)}`,
        version: 1,
        billingMode: 'BYOK',
      });
      expect(asAdmin.slice(1).every((option) => option.key === null)).toBe(true);
    });
  },
  { env: { BUILTIN_PROVIDER: 'MISTRAL', BUILTIN_MISTRAL_API_KEY: BUILTIN_KEY } },
);

describe('the credential resolver without a built-in key', () => {
  it('says which variable to set when an account has no key of its own', async () => {
    const app = await startTestApp('sqlite');
    try {
      await expect(app.resolveCredential('acct_acme', AiTask.ANALYSIS)).rejects.toThrow(
        'No credential for ANALYSIS of account acct_acme: it has no usable key of its own and BUILTIN_OPENAI_API_KEY is not set.',
      );
    } finally {
      await app.stop();
    }
  });
});
