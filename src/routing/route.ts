import { BillingMode } from '../accounts/billing-mode.enum';
import { Plan, planAllowsByok } from '../accounts/plan.enum';
import { adapterFor, displayNameOf, PROVIDER_ADAPTERS } from '../providers/adapters';
import { AiProvider } from '../providers/ai-provider.enum';
import { AiTask } from '../providers/ai-task.enum';
import { isHardFailure, KeyHealth } from '../providers/key-health.enum';
import type { PublicProviderKey } from '../provider-keys/provider-key.entity';
import { AiTaskRoute } from './ai-settings.type';
import type { TaskModelChoice } from './ai-settings.entity';
import { RouteStatus } from './route-status.enum';

// Which stored key serves the AI tasks of an account, with which model, and why: the one rule, used
// alike by aiSettings, aiProviders and the credential resolver (in-process and the internal API).
//   1. Plan below GROWTH, or no stored key: the built-in allocation (BUILT_IN).
//   2. Otherwise the first usable key in the account's provider order serves: BYOK_KEY when it is the
//      first stored key in that order, FALLBACK_KEY when earlier ones are unusable. A key is unusable
//      while its health is a hard failure, while it cools down, or once it has expired.
//   3. Keys stored, none usable: the built-in allocation if the account allows it (builtInFallback),
//      else UNAVAILABLE, naming the first stored key in order (the one to fix).
// The model is the admin's choice for the provider and task when the key still lists it (or it is the
// adapter's own), else the adapter's (Azure: the key's deployment). Every route says why in a sentence.

/** The order routing tries stored keys in, until the admin chooses another. */
export const DEFAULT_PROVIDER_ORDER: readonly AiProvider[] = PROVIDER_ADAPTERS.map(
  (adapter) => adapter.provider,
);

/** The admin's routing choices for an account. */
export interface AiSettingsValues {
  providerOrder: readonly AiProvider[];
  builtInFallback: boolean;
  taskModels: readonly TaskModelChoice[];
}

export const DEFAULT_SETTINGS: AiSettingsValues = {
  providerOrder: DEFAULT_PROVIDER_ORDER,
  builtInFallback: true,
  taskModels: [],
};

/** The platform's own allocation: BUILTIN_PROVIDER (a hosted provider) with BUILTIN_<PROVIDER>_API_KEY. */
export interface BuiltIn {
  provider: AiProvider;
  apiKeys: Partial<Record<AiProvider, string>>;
}

export type RoutableKey = Pick<
  PublicProviderKey,
  | 'id'
  | 'provider'
  | 'health'
  | 'coolingDownUntil'
  | 'expiresAt'
  | 'deployment'
  | 'version'
  | 'availableModels'
>;

export interface RoutingAccount<K extends RoutableKey = RoutableKey> {
  plan: Plan;
  keys: readonly K[];
  settings: AiSettingsValues;
}

/** What stops a key from serving now, and what the admin can do about it. */
interface Problem {
  /** The end of "your OpenAI key …". */
  problem: string;
  /** What to do, as an imperative. */
  fix: string;
}

const minute = (at: Date) => `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;

function hardFailure(name: string, health: KeyHealth): Problem {
  switch (health) {
    case KeyHealth.INVALID_KEY:
      return { problem: `was rejected by ${name} (INVALID_KEY)`, fix: 'rotate it with a working key' };
    case KeyHealth.INSUFFICIENT_PERMISSIONS:
      return {
        problem: `lacks permissions at ${name} (INSUFFICIENT_PERMISSIONS)`,
        fix: 'grant them at the provider, then test the key again',
      };
    case KeyHealth.QUOTA_EXCEEDED:
      return {
        problem: `has no credit or quota left at ${name} (QUOTA_EXCEEDED)`,
        fix: 'add credit or raise the limit at the provider, then test the key again',
      };
    default:
      return { problem: `failed its last test at ${name} (${health})`, fix: 'test it again' };
  }
}

/** Why a key cannot serve now; undefined when it can. */
function problemOf(key: RoutableKey, now: Date): Problem | undefined {
  const name = displayNameOf(key.provider);
  if (key.expiresAt && key.expiresAt <= now) {
    return { problem: `expired at ${minute(key.expiresAt)}`, fix: 'rotate it, or set a later expiry' };
  }
  if (isHardFailure(key.health)) return hardFailure(name, key.health);
  if (key.coolingDownUntil && key.coolingDownUntil > now) {
    return {
      problem: `is paused until ${minute(key.coolingDownUntil)} after repeated failures at ${name}`,
      fix: 'it comes back by itself then, or sooner when a test of it passes',
    };
  }
  return undefined;
}

export const isUsable = (key: RoutableKey, now: Date): boolean => problemOf(key, now) === undefined;

/** A usable key's health that is worth a word: it serves, but the admin may want to look. */
function caveatOf(key: RoutableKey): string {
  if (key.health === KeyHealth.UNTESTED) return ' (it has not been tested yet)';
  if (key.health === KeyHealth.VALID) return '';
  return `, although its last test did not pass (${key.health}): test it again`;
}

/** The decision for an account, the same for every task: the key that serves and why. */
export interface Serving<K extends RoutableKey> {
  status: RouteStatus;
  key: K | undefined;
  /** UNAVAILABLE: the first stored key in order, the one to fix. */
  blocked: K | undefined;
  /** Why the key serves, or why none does: the route's sentence, without its full stop. */
  why: string;
}

export function servingKey<K extends RoutableKey>(
  account: RoutingAccount<K>,
  builtIn: BuiltIn,
  now: Date,
): Serving<K> {
  const builtInUsed = `the platform's built-in allocation (${displayNameOf(builtIn.provider)}) is used`;
  const none = { key: undefined, blocked: undefined };
  if (!planAllowsByok(account.plan)) {
    const kept = account.keys.length ? '; your stored keys are kept, unused, until it does' : '';
    return {
      status: RouteStatus.BUILT_IN,
      ...none,
      why: `${capitalized(builtInUsed)} because bringing your own key needs the Growth plan${kept}`,
    };
  }
  const stored = account.settings.providerOrder.flatMap((provider) =>
    account.keys.filter((key) => key.provider === provider),
  );
  const [first] = stored;
  if (!first) {
    return { status: RouteStatus.BUILT_IN, ...none, why: `No provider key is stored, so ${builtInUsed}` };
  }
  const key = stored.find((candidate) => isUsable(candidate, now));
  if (key === first) {
    const why = `Your ${displayNameOf(key.provider)} key is used${caveatOf(key)}`;
    return { status: RouteStatus.BYOK_KEY, key, blocked: undefined, why };
  }
  // The first stored key cannot serve: it is what the sentence names.
  const { problem, fix } = problemOf(first, now)!;
  const firstKey = `your ${displayNameOf(first.provider)} key ${problem}`;
  if (key) {
    return {
      status: RouteStatus.FALLBACK_KEY,
      key,
      blocked: undefined,
      why: `Your ${displayNameOf(key.provider)} key is used because ${firstKey}: ${fix}`,
    };
  }
  const noOther = stored.length > 1 ? ' and none of your other keys can serve' : '';
  if (account.settings.builtInFallback) {
    return {
      status: RouteStatus.BUILT_IN,
      ...none,
      why: `${capitalized(builtInUsed)} because ${firstKey}${noOther}: ${fix}`,
    };
  }
  return {
    status: RouteStatus.UNAVAILABLE,
    key: undefined,
    blocked: first,
    why: `AI tasks are paused because ${firstKey}${noOther}, and the built-in fallback is off for this account: ${fix}, or turn the built-in fallback on`,
  };
}

const capitalized = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/** The model of a task on a key: the admin's choice while the key lists it, else the adapter's. */
function modelFor(
  task: AiTask,
  key: RoutableKey,
  choices: readonly TaskModelChoice[],
): { model: string; note: string } {
  const catalog = adapterFor(key.provider).models[task];
  // Azure OpenAI serves every task from the key's own deployment.
  if (key.provider === AiProvider.AZURE_OPENAI && key.deployment) return { model: key.deployment, note: '' };
  const chosen = choices.find((choice) => choice.provider === key.provider && choice.task === task)?.model;
  if (!chosen || chosen === catalog) return { model: catalog, note: '' };
  if (key.availableModels?.includes(chosen)) return { model: chosen, note: '' };
  return {
    model: catalog,
    note: `; your chosen model ${chosen} is no longer listed for the key, so ${catalog} serves: choose another model, or test the key again`,
  };
}

/** The route of one task, as `servingKey` decided it. */
export function routeOf(
  task: AiTask,
  serving: Serving<RoutableKey>,
  settings: AiSettingsValues,
  builtIn: BuiltIn,
): AiTaskRoute {
  const { status, key, blocked, why } = serving;
  if (key) {
    const { model, note } = modelFor(task, key, settings.taskModels);
    return {
      task,
      provider: key.provider,
      model,
      billingMode: BillingMode.BYOK,
      health: key.health,
      status,
      keyId: key.id,
      reason: `${why}${note}.`,
    };
  }
  if (blocked) {
    const { model } = modelFor(task, blocked, settings.taskModels);
    return {
      task,
      provider: blocked.provider,
      model,
      billingMode: BillingMode.BYOK,
      health: blocked.health,
      status,
      keyId: null,
      reason: `${why}.`,
    };
  }
  const provider = builtIn.provider;
  return {
    task,
    provider,
    model: adapterFor(provider).models[task],
    billingMode: BillingMode.BUILT_IN,
    health: null,
    status,
    keyId: null,
    reason: `${why}.`,
  };
}
