import { AppError, badUserInput, ErrorCode } from '../graphql/errors';
import { adapterFor, displayNameOf } from '../providers/adapters';
import { AiProvider } from '../providers/ai-provider.enum';
import type { PublicProviderKey } from '../provider-keys/provider-key.entity';
import { requireByokPlan } from '../provider-keys/provider-key.errors';
import type { TaskModelChoice } from './ai-settings.entity';
import { TaskModelInput, UpdateAiSettingsInput } from './ai-settings.inputs';
import { AiSettingsStore } from './ai-settings.store';
import { AiSettings } from './ai-settings.type';
import { DEFAULT_PROVIDER_ORDER } from './route';
import { RouteService, RoutingViewer } from './route.service';

// The admin's routing choices: which order stored keys are tried in, whether the built-in allocation may
// step in, and the model per provider and task. Every rule is checked before anything is written; a
// refusal says what to fix and changes nothing.

/** How many of a key's models a refusal names (the key may list thousands). */
const MODELS_NAMED = 20;

export class AiSettingsService {
  constructor(private readonly deps: { store: AiSettingsStore; routes: Pick<RouteService, 'settingsOf'> }) {}

  /** Applies what the input names; omitted (or null) fields stay as they are. The settings after. */
  async update(viewer: RoutingViewer, input: UpdateAiSettingsInput): Promise<AiSettings> {
    requireByokPlan(viewer, 'choose how AI tasks are routed');
    const order = input.providerOrder == null ? undefined : checkedOrder(input.providerOrder);
    const choices = input.taskModels?.map((entry) => checkedChoice(entry, viewer.account.keys));
    if (choices) refuseRepeats(choices);
    const settings = await this.deps.store.update(
      viewer.accountId,
      (current) => ({
        providerOrder: order ?? current.providerOrder,
        builtInFallback: input.builtInFallback ?? current.builtInFallback,
        taskModels: choices ? merged(current.taskModels, choices) : current.taskModels,
      }),
      viewer.userId,
    );
    return this.deps.routes.settingsOf({ plan: viewer.plan, keys: viewer.account.keys, settings });
  }
}

function checkedOrder(order: readonly AiProvider[]): AiProvider[] {
  const missing = DEFAULT_PROVIDER_ORDER.filter((provider) => !order.includes(provider));
  const repeated = [...new Set(order.filter((provider, at) => order.indexOf(provider) !== at))];
  if (missing.length || repeated.length) {
    const problems = [
      missing.length ? `it lacks ${missing.join(', ')}` : '',
      repeated.length ? `it repeats ${repeated.join(', ')}` : '',
    ].filter(Boolean);
    throw badUserInput(
      `providerOrder must name each of ${DEFAULT_PROVIDER_ORDER.join(', ')} exactly once: ${problems.join(' and ')}.`,
      'providerOrder',
    );
  }
  return [...order];
}

/** A choice as given, or its removal (model null); the catalog's own model counts as a removal. */
type CheckedChoice = Omit<TaskModelChoice, 'model'> & { model: string | null };

function checkedChoice(entry: TaskModelInput, keys: readonly PublicProviderKey[]): CheckedChoice {
  const { provider, task } = entry;
  const name = displayNameOf(provider);
  const model = entry.model?.trim() || null;
  if (provider === AiProvider.AZURE_OPENAI) {
    throw badUserInput(
      `${name} takes no task model: every task uses the key's deployment. To change it, rotate the key with another deployment.`,
      'taskModels',
    );
  }
  const catalog = adapterFor(provider).models[task];
  if (model === null || model === catalog) return { provider, task, model: null };
  const key = keys.find((candidate) => candidate.provider === provider);
  const available = key?.availableModels ?? [];
  if (available.includes(model)) return { provider, task, model };
  const refused = `${model} cannot serve ${task} on ${name}:`;
  throw new AppError(ErrorCode.BAD_USER_INPUT, `${refused} ${whatToChoose(name, catalog, key)}`, {
    field: 'taskModels',
    provider,
    task,
    allowedModels: [catalog, ...available.filter((id) => id !== catalog)].slice(0, 100),
  });
}

/** What the admin may choose instead, as the end of a refusal. */
function whatToChoose(name: string, catalog: string, key: PublicProviderKey | undefined): string {
  const available = key?.availableModels ?? [];
  if (!key)
    return `no ${name} key is stored. Add one and test it, then choose among its models, or use ${catalog}.`;
  if (available.length === 0) {
    return `your ${name} key has not passed a connection test yet. Test it, then choose among the models it lists, or use ${catalog}.`;
  }
  const named = available.slice(0, MODELS_NAMED).join(', ');
  const more = available.length > MODELS_NAMED ? ` and ${available.length - MODELS_NAMED} more` : '';
  return `your ${name} key does not list it. Choose ${catalog} (the default) or one it lists: ${named}${more}.`;
}

function refuseRepeats(choices: readonly CheckedChoice[]): void {
  const seen = new Set<string>();
  for (const { provider, task } of choices) {
    const pair = `${provider} ${task}`;
    if (seen.has(pair)) {
      throw badUserInput(
        `taskModels names ${provider} and ${task} more than once: name each pair once.`,
        'taskModels',
      );
    }
    seen.add(pair);
  }
}

/** The stored choices with the given ones applied: a model replaces or adds, a removal drops. */
function merged(current: readonly TaskModelChoice[], changes: readonly CheckedChoice[]): TaskModelChoice[] {
  const same = (a: Omit<TaskModelChoice, 'model'>, b: Omit<TaskModelChoice, 'model'>) =>
    a.provider === b.provider && a.task === b.task;
  const kept = current.filter((choice) => !changes.some((change) => same(choice, change)));
  const added = changes.filter((change): change is TaskModelChoice => change.model !== null);
  return [...kept, ...added];
}
