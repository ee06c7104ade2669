import { BillingMode } from '../accounts/billing-mode.enum';
import { Plan, planAllowsByok } from '../accounts/plan.enum';
import { adapterFor, PROVIDER_ADAPTERS } from '../providers/adapters';
import { AiProvider } from '../providers/ai-provider.enum';
import { AiTask } from '../providers/ai-task.enum';
import type { PublicProviderKey } from '../provider-keys/provider-key.entity';
import { AiTaskRoute } from './ai-settings.type';

// Which stored key serves the AI tasks of an account, and so which provider and model each task uses:
// the one rule, used alike by aiSettings, aiProviders and the credential resolver. While the plan allows
// BYOK, the first provider in the routing order with a stored key serves; otherwise (or with no key)
// the platform's built-in allocation.

/** The order routing tries stored keys in (the contract's default). */
export const ROUTING_ORDER: readonly AiProvider[] = PROVIDER_ADAPTERS.map((adapter) => adapter.provider);

/** The platform's own allocation: BUILTIN_PROVIDER (a hosted provider) with BUILTIN_<PROVIDER>_API_KEY. */
export interface BuiltIn {
  provider: AiProvider;
  apiKeys: Partial<Record<AiProvider, string>>;
}

export function servingKey<K extends PublicProviderKey>(plan: Plan, keys: readonly K[]): K | undefined {
  if (!planAllowsByok(plan)) return undefined;
  for (const provider of ROUTING_ORDER) {
    const key = keys.find((candidate) => candidate.provider === provider);
    if (key) return key;
  }
  return undefined;
}

/** The route of one task, served by `key` (from servingKey) or, without one, by the built-in allocation. */
export function routeOf(task: AiTask, key: PublicProviderKey | undefined, builtIn: BuiltIn): AiTaskRoute {
  if (!key) {
    const provider = builtIn.provider;
    return {
      task,
      provider,
      model: adapterFor(provider).models[task],
      billingMode: BillingMode.BUILT_IN,
      health: null,
    };
  }
  // Azure OpenAI serves every task from the key's own deployment.
  const model =
    key.provider === AiProvider.AZURE_OPENAI && key.deployment
      ? key.deployment
      : adapterFor(key.provider).models[task];
  return { task, provider: key.provider, model, billingMode: BillingMode.BYOK, health: key.health };
}
