import { BillingMode, billingModeFor } from '../accounts/billing-mode.enum';
import { Plan, planAllowsByok } from '../accounts/plan.enum';
import { Role } from '../accounts/role.enum';
import { Viewer } from '../auth/viewer';
import { PROVIDER_ADAPTERS } from '../providers/adapters';
import { AI_TASKS, AiTask } from '../providers/ai-task.enum';
import { AccountKeys, RoutingKeys } from '../provider-keys/provider-key.store';
import { toProviderKeyType } from '../provider-keys/provider-key.type';
import { AiSettings, AiTaskRoute, ProviderOption } from './ai-settings.type';
import { AccountSettings } from './ai-settings.store';
import { BuiltIn, RoutingAccount, routeOf, servingKey } from './route';
import { RouteStatus } from './route-status.enum';

// The routes an account's members see, the provider dropdown, and the credential the platform's
// pipelines call with, all from the one rule in route.ts. GraphQL only ever sees routes.

export interface ResolvedCredential extends AiTaskRoute {
  /** The plaintext key: hold it only for the call it is for, never store or log it. */
  apiKey: string;
  /** AZURE_OPENAI: the resource endpoint; the model is the deployment name. */
  endpoint: string | null;
  /** The version of the key handed out (null for BUILT_IN): a report names it, so a late one is fenced off. */
  keyVersion: number | null;
}

export class AccountNotFoundError extends Error {
  override readonly name = 'AccountNotFoundError';
}

/** Nothing may serve the task; `message` (the route's reason) says why and what to fix. */
export class CredentialUnavailableError extends Error {
  override readonly name = 'CredentialUnavailableError';
  /** The contract's code, as the internal API answers it too. */
  readonly code = 'NO_USABLE_CREDENTIAL';
}

/** What a request's viewer carries of the account for routing (read with the membership). */
export type RoutingViewer = Viewer<AccountKeys & AccountSettings>;

/** One account's plan, keys (able to open themselves) and settings, read in one statement. */
export type AccountReader = (
  accountId: string,
) => Promise<{ plan: Plan; account: RoutingKeys & AccountSettings } | undefined>;

export interface RouteServiceDeps {
  readAccount: AccountReader;
  builtIn: BuiltIn;
  /** Counts one use of a key handed out (lastUsedAt, usage), in memory; written in the background. */
  recordUse(key: { id: string; accountId: string }): void;
  now(): Date;
}

export class RouteService {
  constructor(private readonly deps: RouteServiceDeps) {}

  /** The provider dropdown: every provider, this account's billing mode, and (admins) its key. */
  providerOptions(viewer: Viewer<AccountKeys>): ProviderOption[] {
    return PROVIDER_ADAPTERS.map(({ provider, displayName, keyHint, api }) => {
      const key = viewer.account.keys.find((candidate) => candidate.provider === provider);
      return {
        id: provider,
        provider,
        displayName,
        keyHint,
        requiresEndpoint: !api,
        billingMode: key ? billingModeFor(viewer.plan) : BillingMode.BUILT_IN,
        // Members never get key details, whatever they select: the permission map nulls the field too.
        key: key && viewer.role === Role.ADMIN ? toProviderKeyType(key, viewer.plan) : null,
      };
    });
  }

  /** The plan, the routes and the admin's choices, from what was read with the membership. */
  settings(viewer: RoutingViewer): AiSettings {
    return this.settingsOf({
      plan: viewer.plan,
      keys: viewer.account.keys,
      settings: viewer.account.settings,
    });
  }

  settingsOf(account: RoutingAccount): AiSettings {
    const serving = servingKey(account, this.deps.builtIn, this.deps.now());
    const { providerOrder, builtInFallback, taskModels } = account.settings;
    return {
      plan: account.plan,
      byokAvailable: planAllowsByok(account.plan),
      routes: AI_TASKS.map((task) => routeOf(task, serving, account.settings, this.deps.builtIn)),
      providerOrder: [...providerOrder],
      builtInFallback,
      taskModels: taskModels.map((choice) => ({ ...choice })),
    };
  }

  /** For the platform's pipelines: the route of one task plus the credential to call it with. */
  async resolveCredential(accountId: string, task: AiTask): Promise<ResolvedCredential> {
    // Read on every call, never cached: a rotation, removal, plan or settings change shows on the next one.
    const read = await this.deps.readAccount(accountId);
    if (!read) throw new AccountNotFoundError(`No account ${accountId}.`);
    const { keys, settings } = read.account;
    const serving = servingKey({ plan: read.plan, keys, settings }, this.deps.builtIn, this.deps.now());
    const route = routeOf(task, serving, settings, this.deps.builtIn);
    if (route.status === RouteStatus.UNAVAILABLE) throw new CredentialUnavailableError(route.reason);
    const { key } = serving;
    if (key) {
      const apiKey = key.open();
      this.deps.recordUse(key);
      return { ...route, apiKey, endpoint: key.endpoint, keyVersion: key.version };
    }
    const apiKey = this.deps.builtIn.apiKeys[route.provider];
    if (!apiKey) {
      throw new CredentialUnavailableError(
        `No credential for ${task} of account ${accountId}: it has no usable key of its own and BUILTIN_${route.provider}_API_KEY is not set.`,
      );
    }
    return { ...route, apiKey, endpoint: null, keyVersion: null };
  }
}
