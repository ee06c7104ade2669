import {
  AddProviderKeyDocument,
  AiSettingsDocument,
  RemoveProviderKeyDocument,
  UpdateAiSettingsDocument,
  UpdateAiSettingsInput,
} from '../generated/graphql';
import { AiProvider } from '../../src/providers/ai-provider.enum';
import { AiTask } from '../../src/providers/ai-task.enum';
import { requiredModels } from '../../src/providers/model-catalog';
import { AccountAiSettings } from '../../src/routing/ai-settings.entity';
import { AiSettingsEvent } from '../../src/routing/ai-settings-event.entity';
import { makeKey } from '../support/fake-providers';
import { keyFragmentsIn } from '../support/key-fragments';
import { describeEachDatabase } from '../support/test-app';

// updateAiSettings: who may change the routing choices, what it refuses (each refusal changes nothing),
// how omitted fields stay, and the audit row each change leaves.

const { OPENAI, ANTHROPIC, GOOGLE_GEMINI, AZURE_OPENAI, MISTRAL } = AiProvider;
const DEFAULT_ORDER = [OPENAI, ANTHROPIC, GOOGLE_GEMINI, AZURE_OPENAI, MISTRAL];
const EARLY = 'gpt-4.1-early-access';

describeEachDatabase('updateAiSettings', (app) => {
  let alice: string;
  let bob: string;
  let ivan: string;
  let apiKey: string;
  beforeAll(async () => {
    alice = await app().token('user_alice', 'acct_acme');
    bob = await app().token('user_bob', 'acct_acme');
    ivan = await app().token('user_ivan', 'acct_initech');
  });
  beforeEach(async () => {
    app().providers.listModels(OPENAI, [...requiredModels(OPENAI), EARLY]);
    apiKey = makeKey(OPENAI);
    const added = await app().gql(AddProviderKeyDocument, { input: { provider: OPENAI, apiKey } }, alice);
    expect(added.data?.addProviderKey.availableModels).toEqual([...requiredModels(OPENAI), EARLY]);
  });
  afterEach(async () => {
    await app().gql(RemoveProviderKeyDocument, { provider: OPENAI }, alice);
    await app().dataSource.getRepository(AccountAiSettings).clear();
    await app().dataSource.getRepository(AiSettingsEvent).clear();
    app().providers.reset();
  });

  const update = (input: UpdateAiSettingsInput, token = alice) =>
    app().gql(UpdateAiSettingsDocument, { input }, token);
  const read = async () => (await app().gql(AiSettingsDocument, {}, bob)).data!.aiSettings;
  const events = () =>
    app()
      .dataSource.getRepository(AiSettingsEvent)
      .find({ order: { id: 'ASC' } });

  it('stores each field, leaves omitted ones as they are, and records who changed what', async () => {
    const order = [MISTRAL, OPENAI, ANTHROPIC, GOOGLE_GEMINI, AZURE_OPENAI];
    const first = await update({ providerOrder: order });
    expect(first.errors).toBeUndefined();
    expect(first.data!.updateAiSettings).toMatchObject({
      providerOrder: order,
      builtInFallback: true,
      taskModels: [],
    });

    await update({ builtInFallback: false });
    await update({ taskModels: [{ provider: OPENAI, task: AiTask.ANALYSIS, model: EARLY }] });
    expect(await read()).toMatchObject({
      providerOrder: order,
      builtInFallback: false,
      taskModels: [{ provider: OPENAI, task: AiTask.ANALYSIS, model: EARLY }],
    });

    // null (or the catalog's own model) takes a task back to the catalog; other choices stay.
    await update({
      taskModels: [
        { provider: OPENAI, task: AiTask.INSIGHT_GENERATION, model: EARLY },
        { provider: OPENAI, task: AiTask.ANALYSIS, model: null },
      ],
    });
    expect((await read()).taskModels).toEqual([
      { provider: OPENAI, task: AiTask.INSIGHT_GENERATION, model: EARLY },
    ]);
    await update({ taskModels: [{ provider: OPENAI, task: AiTask.INSIGHT_GENERATION, model: 'o4-mini' }] });
    expect((await read()).taskModels).toEqual([]);

    // The same values again change nothing and leave no row.
    await update({ providerOrder: order, builtInFallback: false });

    const rows = await events();
    expect(rows.map(({ actorId, changes }) => ({ actorId, changes: JSON.parse(changes) }))).toEqual([
      { actorId: 'user_alice', changes: { providerOrder: { from: DEFAULT_ORDER, to: order } } },
      { actorId: 'user_alice', changes: { builtInFallback: { from: true, to: false } } },
      {
        actorId: 'user_alice',
        changes: {
          taskModels: { from: [], to: [{ provider: OPENAI, task: AiTask.ANALYSIS, model: EARLY }] },
        },
      },
      {
        actorId: 'user_alice',
        changes: {
          taskModels: {
            from: [{ provider: OPENAI, task: AiTask.ANALYSIS, model: EARLY }],
            to: [{ provider: OPENAI, task: AiTask.INSIGHT_GENERATION, model: EARLY }],
          },
        },
      },
      {
        actorId: 'user_alice',
        changes: {
          taskModels: { from: [{ provider: OPENAI, task: AiTask.INSIGHT_GENERATION, model: EARLY }], to: [] },
        },
      },
    ]);
    expect(keyFragmentsIn(JSON.stringify(rows), apiKey)).toEqual([]);
  });

  const refusals: [
    string,
    () => Promise<{ errors?: { message: string; extensions?: Record<string, unknown> }[] }>,
    string,
    string,
  ][] = [
    [
      'a member',
      () => update({ builtInFallback: false }, bob),
      'FORBIDDEN',
      'Only an account admin may do this.',
    ],
    [
      'a STARTER account',
      () => update({ builtInFallback: false }, ivan),
      'PLAN_UPGRADE_REQUIRED',
      'Bringing your own AI provider key needs the Growth plan or above. Upgrade the plan to choose how AI tasks are routed.',
    ],
    [
      'an order missing a provider',
      () =>
        update({ providerOrder: [OPENAI, ANTHROPIC, GOOGLE_GEMINI, AZURE_OPENAI], builtInFallback: false }),
      'BAD_USER_INPUT',
      'providerOrder must name each of OPENAI, ANTHROPIC, GOOGLE_GEMINI, AZURE_OPENAI, MISTRAL exactly once: it lacks MISTRAL.',
    ],
    [
      'an order repeating a provider',
      () => update({ providerOrder: [OPENAI, ANTHROPIC, GOOGLE_GEMINI, AZURE_OPENAI, MISTRAL, OPENAI] }),
      'BAD_USER_INPUT',
      'providerOrder must name each of OPENAI, ANTHROPIC, GOOGLE_GEMINI, AZURE_OPENAI, MISTRAL exactly once: it repeats OPENAI.',
    ],
    [
      'an Azure OpenAI task model',
      () =>
        update({
          builtInFallback: false,
          taskModels: [{ provider: AZURE_OPENAI, task: AiTask.ANALYSIS, model: 'gpt-4o' }],
        }),
      'BAD_USER_INPUT',
      "Azure OpenAI takes no task model: every task uses the key's deployment. To change it, rotate the key with another deployment.",
    ],
    [
      'a model for a provider without a key',
      () =>
        update({ taskModels: [{ provider: ANTHROPIC, task: AiTask.ANALYSIS, model: 'claude-opus-4-1' }] }),
      'BAD_USER_INPUT',
      'claude-opus-4-1 cannot serve ANALYSIS on Anthropic: no Anthropic key is stored. Add one and test it, then choose among its models, or use claude-haiku-4-5.',
    ],
    [
      'the same provider and task twice',
      () =>
        update({
          taskModels: [
            { provider: OPENAI, task: AiTask.ANALYSIS, model: EARLY },
            { provider: OPENAI, task: AiTask.ANALYSIS, model: null },
          ],
        }),
      'BAD_USER_INPUT',
      'taskModels names OPENAI and ANALYSIS more than once: name each pair once.',
    ],
  ];

  it.each(refusals)('refuses %s, changing nothing', async (_who, send, code, message) => {
    const before = await read();
    const answer = await send();
    expect(answer.errors).toEqual([
      expect.objectContaining({ message, extensions: expect.objectContaining({ code }) }),
    ]);
    expect(await read()).toEqual(before);
    expect(await events()).toEqual([]);
    expect(await app().dataSource.getRepository(AccountAiSettings).count()).toBe(0);
  });

  it('names what the key can use when it refuses a model, in the message and in extensions', async () => {
    const answer = await update({
      taskModels: [{ provider: OPENAI, task: AiTask.ANALYSIS, model: 'gpt-5' }],
    });
    expect(answer.errors?.[0]).toMatchObject({
      message: `gpt-5 cannot serve ANALYSIS on OpenAI: your OpenAI key does not list it. Choose gpt-4.1-mini (the default) or one it lists: ${[...requiredModels(OPENAI), EARLY].join(', ')}.`,
      extensions: {
        code: 'BAD_USER_INPUT',
        field: 'taskModels',
        provider: OPENAI,
        task: AiTask.ANALYSIS,
        allowedModels: ['gpt-4.1-mini', 'gpt-4.1', 'o4-mini', EARLY],
      },
    });
  });

  it('saves of different fields at once each keep the others', async () => {
    const order = [ANTHROPIC, OPENAI, GOOGLE_GEMINI, AZURE_OPENAI, MISTRAL];
    const answers = await Promise.all([
      update({ providerOrder: order }),
      update({ builtInFallback: false }),
      update({ taskModels: [{ provider: OPENAI, task: AiTask.ANALYSIS, model: EARLY }] }),
    ]);
    expect(answers.map((answer) => answer.errors)).toEqual([undefined, undefined, undefined]);
    expect(await read()).toMatchObject({
      providerOrder: order,
      builtInFallback: false,
      taskModels: [{ provider: OPENAI, task: AiTask.ANALYSIS, model: EARLY }],
    });
    expect(await events()).toHaveLength(3);
  });
});
