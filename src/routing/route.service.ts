import { BillingMode, billingModeFor } from '../accounts/billing-mode.enum';
import { Role } from '../accounts/role.enum';
import { Viewer } from '../auth/viewer';
import { PROVIDER_ADAPTERS } from '../providers/adapters';
import { AI_TASKS, AiTask } from '../providers/ai-task.enum';
import { AccountKeys, ProviderKeyStore } from '../provider-keys/provider-key.store';
import { toProviderKeyType } from '../provider-keys/provider-key.type';
import { AiTaskRoute, ProviderOption } from './ai-settings.type';
import { BuiltIn, routeOf, servingKey } from './route';

// The routes an account's members see, the provider dropdown, and the credential the platform's
// pipelines call with. GraphQL only ever sees routes; resolveCredential is in-process only.

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

/** Nothing may serve the task; `message` says why and what to fix, and never names a key. */
export class CredentialUnavailableError extends Error {
  override readonly name = 'CredentialUnavailableError';
}

export interface RouteServiceDeps {
  store: Pick<ProviderKeyStore, 'accountForRouting'>;
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

  /** The route of every task of the viewer's account, from the keys read with the membership. */
  routes(viewer: Viewer<AccountKeys>): AiTaskRoute[] {
    const serving = servingKey(viewer.plan, viewer.account.keys, this.deps.now());
    return AI_TASKS.map((task) => routeOf(task, serving, this.deps.builtIn));
  }

  /** For the platform's pipelines: the route of one task plus the credential to call it with. */
  async resolveCredential(accountId: string, task: AiTask): Promise<ResolvedCredential> {
    // Read on every call, never cached: a rotation, removal or plan change shows on the next one.
    const account = await this.deps.store.accountForRouting(accountId);
    if (!account) throw new AccountNotFoundError(`No account ${accountId}.`);
    const serving = servingKey(account.plan, account.keys, this.deps.now());
    const route = routeOf(task, serving, this.deps.builtIn);
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
