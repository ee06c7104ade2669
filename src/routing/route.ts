import { BillingMode } from '../accounts/billing-mode.enum';
import { Plan, planAllowsByok } from '../accounts/plan.enum';
import { adapterFor, PROVIDER_ADAPTERS } from '../providers/adapters';
import { AiProvider } from '../providers/ai-provider.enum';
import { AiTask } from '../providers/ai-task.enum';
import { isHardFailure } from '../providers/key-health.enum';
import type { PublicProviderKey } from '../provider-keys/provider-key.entity';
import { AiTaskRoute } from './ai-settings.type';
import { RouteStatus } from './route-status.enum';

// Which stored key serves the AI tasks of an account, and so which provider and model each task uses:
// the one rule, used alike by aiSettings, aiProviders and the credential resolver (in-process and the
// internal API). While the plan allows BYOK, the first usable key in the routing order serves; a key is
// unusable while its health is a hard failure or it cools down after transient failures. Without a
// usable key (or a plan that allows BYOK), the platform's built-in allocation serves.

/** The order routing tries stored keys in (the contract's default). */
export const ROUTING_ORDER: readonly AiProvider[] = PROVIDER_ADAPTERS.map((adapter) => adapter.provider);

/** The platform's own allocation: BUILTIN_PROVIDER (a hosted provider) with BUILTIN_<PROVIDER>_API_KEY. */
export interface BuiltIn {
  provider: AiProvider;
  apiKeys: Partial<Record<AiProvider, string>>;
}

export type RoutableKey = Pick<
  PublicProviderKey,
  'id' | 'provider' | 'health' | 'coolingDownUntil' | 'deployment' | 'version'
>;

export function isUsable(key: RoutableKey, now: Date): boolean {
  return !isHardFailure(key.health) && !(key.coolingDownUntil && key.coolingDownUntil > now);
}

/** The key that serves the account's tasks and why; none when the built-in allocation serves. */
export interface Serving<K> {
  key: K | undefined;
  status: RouteStatus;
}

export function servingKey<K extends RoutableKey>(plan: Plan, keys: readonly K[], now: Date): Serving<K> {
  if (!planAllowsByok(plan)) return { key: undefined, status: RouteStatus.BUILT_IN };
  const stored = ROUTING_ORDER.map((provider) => keys.find((key) => key.provider === provider)).filter(
    (key): key is K => key !== undefined,
  );
  const key = stored.find((candidate) => isUsable(candidate, now));
  if (!key) return { key: undefined, status: RouteStatus.BUILT_IN };
  return { key, status: key === stored[0] ? RouteStatus.BYOK_KEY : RouteStatus.FALLBACK_KEY };
}

/** The route of one task, as `servingKey` decided it. */
export function routeOf(task: AiTask, { key, status }: Serving<RoutableKey>, builtIn: BuiltIn): AiTaskRoute {
  if (!key) {
    const provider = builtIn.provider;
    const model = adapterFor(provider).models[task];
    return { task, provider, model, billingMode: BillingMode.BUILT_IN, health: null, status, keyId: null };
  }
  // Azure OpenAI serves every task from the key's own deployment.
  const model =
    key.provider === AiProvider.AZURE_OPENAI && key.deployment
      ? key.deployment
      : adapterFor(key.provider).models[task];
  return {
    task,
    provider: key.provider,
    model,
    billingMode: BillingMode.BYOK,
    health: key.health,
    status,
    keyId: key.id,
  };
}
