import {
  AddProviderKeyDocument,
  AddProviderKeyMutationVariables,
  AiProvidersDocument,
  AiSettingsDocument,
  AiSettingsQuery,
  RemoveProviderKeyDocument,
  TestProviderKeyDocument,
  UpdateAiSettingsDocument,
  UpdateAiSettingsInput,
} from '../generated/graphql';
import { Account } from '../../src/accounts/account.entity';
import { Plan } from '../../src/accounts/plan.enum';
import { adapterFor } from '../../src/providers/adapters';
import { AiProvider } from '../../src/providers/ai-provider.enum';
import { AiTask } from '../../src/providers/ai-task.enum';
import { requiredModels } from '../../src/providers/model-catalog';
import { AccountAiSettings } from '../../src/routing/ai-settings.entity';
import { CredentialUnavailableError } from '../../src/routing/route.service';
import { makeKey, Scenario } from '../support/fake-providers';
import { describeEachDatabase } from '../support/test-app';

// Every routing case of the contract, end to end on both databases: what a member reads in aiSettings
// and aiProviders, and what the credential resolver hands a pipeline (in-process and over the internal
// API): the plaintext key of the key that serves, the built-in key, or a refusal with the same reason.

const BUILTIN_KEY = 'builtin-mistral-key-0123456789';
const START = Date.parse('2026-12-02T10:00:00Z');
const clock = { at: START };
const TASKS = Object.values(AiTask);
const { OPENAI, ANTHROPIC, GOOGLE_GEMINI, AZURE_OPENAI, MISTRAL } = AiProvider;
const catalog = (provider: AiProvider, task: AiTask) => adapterFor(provider).models[task];

/** What a case arranges through the API, as an admin, a pipeline and time would. */
interface Arrange {
  /** Adds a key unverified (UNTESTED); `tested` runs Test Connection on it afterwards. */
  add(
    provider: AiProvider,
    options?: { scenario?: Scenario; tested?: boolean; expiresAt?: number },
  ): Promise<void>;
  test(provider: AiProvider): Promise<void>;
  settings(input: UpdateAiSettingsInput): Promise<{ message: string; code: unknown } | undefined>;
  /** A pipeline's report of a call made with the key. */
  report(provider: AiProvider, outcome: string): Promise<void>;
  advance(ms: number): void;
  listModels(provider: AiProvider, ids: string[]): void;
}

interface Expected {
  status: 'BYOK_KEY' | 'FALLBACK_KEY' | 'BUILT_IN' | 'UNAVAILABLE';
  /** The route's provider; for a key that serves, its plaintext must come back. */
  provider: AiProvider;
  health: string | null;
  reason: string;
  /** The model per task, where it is not the catalog's. */
  models?: Partial<Record<AiTask, string>>;
  /** The task whose chosen model the key no longer lists (its reason says so). */
  lostModel?: AiTask;
  plan?: Plan;
  settings?: Partial<Pick<AiSettingsQuery['aiSettings'], 'providerOrder' | 'builtInFallback' | 'taskModels'>>;
}

interface RoutingCase {
  name: string;
  arrange: (a: Arrange) => Promise<void>;
  expected: Expected;
}

const builtInBecause = (why: string) =>
  `The platform's built-in allocation (Mistral AI) is used because ${why}.`;
const openAiFirst = (scenario: Scenario) => async (a: Arrange) => a.add(OPENAI, { scenario, tested: true });
const usableHealth = (health: string, scenario: Scenario | undefined, caveat: string): RoutingCase => ({
  name: `one key, ${health}: it serves`,
  arrange: async (a) => a.add(OPENAI, scenario ? { scenario, tested: true } : {}),
  expected: { status: 'BYOK_KEY', provider: OPENAI, health, reason: `Your OpenAI key is used${caveat}.` },
});
const hardFailure = (health: string, scenario: Scenario, problem: string): RoutingCase => ({
  name: `one key, ${health}: the built-in allocation serves`,
  arrange: openAiFirst(scenario),
  expected: {
    status: 'BUILT_IN',
    provider: MISTRAL,
    health: null,
    reason: builtInBecause(`your OpenAI key ${problem}`),
  },
});
const EARLY_MODEL = 'gpt-4.1-early-access';

const CASES: RoutingCase[] = [
  {
    name: 'no keys: the built-in allocation',
    arrange: async () => undefined,
    expected: {
      status: 'BUILT_IN',
      provider: MISTRAL,
      health: null,
      reason: "No provider key is stored, so the platform's built-in allocation (Mistral AI) is used.",
      settings: {
        providerOrder: [OPENAI, ANTHROPIC, GOOGLE_GEMINI, AZURE_OPENAI, MISTRAL],
        builtInFallback: true,
        taskModels: [],
      },
    },
  },
  usableHealth('UNTESTED', undefined, ' (it has not been tested yet)'),
  usableHealth('VALID', 'VALID', ''),
  usableHealth(
    'RATE_LIMITED',
    'RATELIMIT',
    ', although its last test did not pass (RATE_LIMITED): test it again',
  ),
  usableHealth(
    'PROVIDER_UNREACHABLE',
    'REDIRECT',
    ', although its last test did not pass (PROVIDER_UNREACHABLE): test it again',
  ),
  usableHealth(
    'PROVIDER_ERROR',
    'ERROR500',
    ', although its last test did not pass (PROVIDER_ERROR): test it again',
  ),
  hardFailure('INVALID_KEY', 'REVOKED', 'was rejected by OpenAI (INVALID_KEY): rotate it with a working key'),
  hardFailure(
    'INSUFFICIENT_PERMISSIONS',
    'RESTRICTED',
    'lacks permissions at OpenAI (INSUFFICIENT_PERMISSIONS): grant them at the provider, then test the key again',
  ),
  hardFailure(
    'QUOTA_EXCEEDED',
    'QUOTA',
    'has no credit or quota left at OpenAI (QUOTA_EXCEEDED): add credit or raise the limit at the provider, then test the key again',
  ),
  {
    name: 'a key cooling down after three transient failures',
    arrange: async (a) => {
      await a.add(OPENAI, { tested: true });
      for (const outcome of ['RATE_LIMITED', 'PROVIDER_ERROR', 'PROVIDER_UNREACHABLE'])
        await a.report(OPENAI, outcome);
    },
    expected: {
      status: 'BUILT_IN',
      provider: MISTRAL,
      health: null,
      reason: builtInBecause(
        'your OpenAI key is paused until 2026-12-02 10:01 UTC after repeated failures at OpenAI: it comes back by itself then, or sooner when a test of it passes',
      ),
    },
  },
  {
    name: 'an expired key',
    arrange: async (a) => {
      await a.add(OPENAI, { tested: true, expiresAt: START + 3_600_000 });
      a.advance(3_600_000);
    },
    expected: {
      status: 'BUILT_IN',
      provider: MISTRAL,
      health: null,
      reason: builtInBecause(
        'your OpenAI key expired at 2026-12-02 11:00 UTC: rotate it, or set a later expiry',
      ),
    },
  },
  {
    name: 'a key that expires later still serves',
    arrange: async (a) => {
      await a.add(OPENAI, { tested: true, expiresAt: START + 3_600_000 });
      a.advance(3_599_000);
    },
    expected: { status: 'BYOK_KEY', provider: OPENAI, health: 'VALID', reason: 'Your OpenAI key is used.' },
  },
  {
    name: 'two keys, the first rejected: the second serves',
    arrange: async (a) => {
      await a.add(ANTHROPIC, { tested: true });
      await a.add(OPENAI, { scenario: 'REVOKED', tested: true });
    },
    expected: {
      status: 'FALLBACK_KEY',
      provider: ANTHROPIC,
      health: 'VALID',
      reason:
        'Your Anthropic key is used because your OpenAI key was rejected by OpenAI (INVALID_KEY): rotate it with a working key.',
    },
  },
  {
    name: 'no key usable, built-in fallback on',
    arrange: async (a) => {
      await a.add(OPENAI, { scenario: 'REVOKED', tested: true });
      await a.add(ANTHROPIC, { scenario: 'QUOTA', tested: true });
    },
    expected: {
      status: 'BUILT_IN',
      provider: MISTRAL,
      health: null,
      reason: builtInBecause(
        'your OpenAI key was rejected by OpenAI (INVALID_KEY) and none of your other keys can serve: rotate it with a working key',
      ),
    },
  },
  {
    name: 'no key usable, built-in fallback off: nothing may serve',
    arrange: async (a) => {
      await a.add(OPENAI, { scenario: 'REVOKED', tested: true });
      await a.add(ANTHROPIC, { scenario: 'QUOTA', tested: true });
      await a.settings({ builtInFallback: false });
    },
    expected: {
      status: 'UNAVAILABLE',
      provider: OPENAI,
      health: 'INVALID_KEY',
      reason:
        'AI tasks are paused because your OpenAI key was rejected by OpenAI (INVALID_KEY) and none of your other keys can serve, and the built-in fallback is off for this account: rotate it with a working key, or turn the built-in fallback on.',
      settings: { builtInFallback: false },
    },
  },
  {
    name: 'built-in fallback off while a key serves: it still serves',
    arrange: async (a) => {
      await a.add(OPENAI, { tested: true });
      await a.settings({ builtInFallback: false });
    },
    expected: { status: 'BYOK_KEY', provider: OPENAI, health: 'VALID', reason: 'Your OpenAI key is used.' },
  },
  {
    name: 'a plan below GROWTH with keys stored',
    arrange: async (a) => {
      await a.add(OPENAI, { tested: true });
      await a.settings({ builtInFallback: false }); // then the plan drops, as billing would drop it
    },
    expected: {
      plan: Plan.STARTER,
      status: 'BUILT_IN',
      provider: MISTRAL,
      health: null,
      reason:
        "The platform's built-in allocation (Mistral AI) is used because bringing your own key needs the Growth plan; your stored keys are kept, unused, until it does.",
    },
  },
  {
    name: 'providerOrder changed: Anthropic first',
    arrange: async (a) => {
      await a.add(OPENAI, { tested: true });
      await a.add(ANTHROPIC, { tested: true });
      await a.settings({ providerOrder: [ANTHROPIC, MISTRAL, OPENAI, GOOGLE_GEMINI, AZURE_OPENAI] });
    },
    expected: {
      status: 'BYOK_KEY',
      provider: ANTHROPIC,
      health: 'VALID',
      reason: 'Your Anthropic key is used.',
      settings: { providerOrder: [ANTHROPIC, MISTRAL, OPENAI, GOOGLE_GEMINI, AZURE_OPENAI] },
    },
  },
  {
    name: 'a task model chosen among the models the key lists',
    arrange: async (a) => {
      a.listModels(OPENAI, [...requiredModels(OPENAI), EARLY_MODEL]);
      await a.add(OPENAI, { tested: true });
      await a.settings({ taskModels: [{ provider: OPENAI, task: AiTask.ANALYSIS, model: EARLY_MODEL }] });
    },
    expected: {
      status: 'BYOK_KEY',
      provider: OPENAI,
      health: 'VALID',
      reason: 'Your OpenAI key is used.',
      models: { [AiTask.ANALYSIS]: EARLY_MODEL },
      settings: { taskModels: [{ provider: OPENAI, task: AiTask.ANALYSIS, model: EARLY_MODEL }] },
    },
  },
  {
    name: 'a task model the key does not list is refused, and the catalog model serves',
    arrange: async (a) => {
      await a.add(OPENAI, { tested: true });
      const refused = await a.settings({
        taskModels: [{ provider: OPENAI, task: AiTask.ANALYSIS, model: EARLY_MODEL }],
      });
      expect(refused).toEqual({
        code: 'BAD_USER_INPUT',
        message: `${EARLY_MODEL} cannot serve ANALYSIS on OpenAI: your OpenAI key does not list it. Choose gpt-4.1-mini (the default) or one it lists: gpt-4.1, gpt-4.1-2025-04-14, gpt-4.1-mini, o4-mini, o4-mini-2025-04-16, gpt-4o, text-embedding-3-small.`,
      });
    },
    expected: {
      status: 'BYOK_KEY',
      provider: OPENAI,
      health: 'VALID',
      reason: 'Your OpenAI key is used.',
      settings: { taskModels: [] },
    },
  },
  {
    name: 'a chosen model the key no longer lists on a later test: kept, and the catalog model serves',
    arrange: async (a) => {
      a.listModels(OPENAI, [...requiredModels(OPENAI), EARLY_MODEL]);
      await a.add(OPENAI, { tested: true });
      await a.settings({ taskModels: [{ provider: OPENAI, task: AiTask.ANALYSIS, model: EARLY_MODEL }] });
      a.listModels(OPENAI, requiredModels(OPENAI));
      await a.test(OPENAI);
    },
    expected: {
      status: 'BYOK_KEY',
      provider: OPENAI,
      health: 'VALID',
      reason: 'Your OpenAI key is used.',
      lostModel: AiTask.ANALYSIS,
      settings: { taskModels: [{ provider: OPENAI, task: AiTask.ANALYSIS, model: EARLY_MODEL }] },
    },
  },
];

/** The reason of a route on which a chosen model was lost. */
const lostModel = (reason: string) =>
  `${reason.slice(0, -1)}; your chosen model ${EARLY_MODEL} is no longer listed for the key, so gpt-4.1-mini serves: choose another model, or test the key again.`;

describeEachDatabase(
  'routing, case by case',
  (app) => {
    let alice: string;
    let bob: string;
    let resolver: string;
    let reporter: string;
    const plaintext = new Map<AiProvider, string>();
    const keyIds = new Map<AiProvider, string>();

    beforeAll(async () => {
      alice = await app().token('user_alice', 'acct_acme');
      bob = await app().token('user_bob', 'acct_acme');
      resolver = await app().serviceToken('analysis-pipeline', ['credentials:resolve']);
      reporter = await app().serviceToken('analysis-pipeline', ['credentials:report']);
    });
    afterEach(async () => {
      for (const provider of Object.values(AiProvider)) {
        await app().gql(RemoveProviderKeyDocument, { provider }, alice);
      }
      await app().dataSource.getRepository(AccountAiSettings).delete({ accountId: 'acct_acme' });
      await app().dataSource.getRepository(Account).update({ id: 'acct_acme' }, { plan: Plan.GROWTH });
      app().providers.reset();
      plaintext.clear();
      keyIds.clear();
      clock.at = START;
    });

    const arrange: Arrange = {
      async add(provider, { scenario = 'VALID', tested = false, expiresAt } = {}) {
        const apiKey = makeKey(provider, scenario);
        const input: AddProviderKeyMutationVariables['input'] = {
          provider,
          apiKey,
          verify: false,
          ...(expiresAt ? { expiresAt: new Date(expiresAt).toISOString() } : {}),
          ...(provider === AZURE_OPENAI
            ? { endpoint: app().providers.azureEndpoint, deployment: 'gpt41' }
            : {}),
        };
        const added = await app().gql(AddProviderKeyDocument, { input }, alice);
        expect(added.errors).toBeUndefined();
        plaintext.set(provider, apiKey);
        keyIds.set(provider, added.data!.addProviderKey.id);
        if (tested) await arrange.test(provider);
      },
      async test(provider) {
        const tested = await app().gql(TestProviderKeyDocument, { input: { provider } }, alice);
        expect(tested.errors).toBeUndefined();
      },
      async settings(input) {
        const answer = await app().gql(UpdateAiSettingsDocument, { input }, alice);
        const error = answer.errors?.[0];
        return error && { message: error.message, code: error.extensions?.code };
      },
      async report(provider, outcome) {
        const body = { accountId: 'acct_acme', keyId: keyIds.get(provider), keyVersion: 1, outcome };
        expect((await app().internal('/internal/v1/credentials/report', body, reporter)).status).toBe(204);
      },
      advance: (ms) => {
        clock.at += ms;
      },
      listModels: (provider, ids) => app().providers.listModels(provider, ids),
    };

    it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, { arrange: setUp, expected }) => {
      await setUp(arrange);
      if (expected.plan) {
        await app().dataSource.getRepository(Account).update({ id: 'acct_acme' }, { plan: expected.plan });
      }
      const plan = expected.plan ?? Plan.GROWTH;
      const serves = expected.status === 'BYOK_KEY' || expected.status === 'FALLBACK_KEY';
      const routeOf = (task: AiTask) => ({
        task,
        provider: expected.provider,
        model:
          expected.models?.[task] ??
          (expected.provider === AZURE_OPENAI ? 'gpt41' : catalog(expected.provider, task)),
        billingMode: serves || expected.status === 'UNAVAILABLE' ? 'BYOK' : 'BUILT_IN',
        health: expected.health,
        status: expected.status,
        keyId: serves ? keyIds.get(expected.provider) : null,
        reason: task === expected.lostModel ? lostModel(expected.reason) : expected.reason,
      });

      // What every member reads.
      const settings = (await app().gql(AiSettingsDocument, {}, bob)).data!.aiSettings;
      expect(settings).toMatchObject({ plan, byokAvailable: plan !== Plan.STARTER, ...expected.settings });
      expect(settings.routes).toEqual(TASKS.map(routeOf));

      // The provider dropdown: BYOK for each provider whose key is stored, while the plan allows it.
      const options = (await app().gql(AiProvidersDocument, {}, bob)).data!.aiProviders;
      expect(Object.fromEntries(options.map((option) => [option.provider, option.billingMode]))).toEqual(
        Object.fromEntries(
          Object.values(AiProvider).map((provider) => [
            provider,
            plaintext.has(provider) && plan !== Plan.STARTER ? 'BYOK' : 'BUILT_IN',
          ]),
        ),
      );

      // What a pipeline is handed, in-process and over the internal API.
      for (const task of TASKS) {
        const route = routeOf(task);
        const over = await app().internal(
          '/internal/v1/credentials/resolve',
          { accountId: 'acct_acme', task },
          resolver,
        );
        if (expected.status === 'UNAVAILABLE') {
          const refusal = app().resolveCredential('acct_acme', task);
          await expect(refusal).rejects.toThrow(CredentialUnavailableError);
          await expect(refusal).rejects.toMatchObject({
            code: 'NO_USABLE_CREDENTIAL',
            message: route.reason,
          });
          expect(over.status).toBe(409);
          expect(over.json.error).toMatchObject({ code: 'NO_USABLE_CREDENTIAL', reason: route.reason });
          continue;
        }
        const apiKey = serves ? plaintext.get(expected.provider) : BUILTIN_KEY;
        const { reason: _reason, ...served } = route;
        expect(await app().resolveCredential('acct_acme', task)).toMatchObject({
          ...served,
          apiKey,
          keyVersion: serves ? 1 : null,
        });
        expect(over.status).toBe(200);
        const { task: _task, ...answered } = served; // the API answers for the task it was asked
        expect(over.json).toMatchObject({ ...answered, apiKey });
      }
    });
  },
  {
    env: {
      INTERNAL_PORT: '0',
      BUILTIN_PROVIDER: 'MISTRAL',
      BUILTIN_MISTRAL_API_KEY: BUILTIN_KEY,
      TEST_RATE_LIMIT_PER_MINUTE: '1000',
    },
    overrides: { now: () => new Date(clock.at) },
  },
);
