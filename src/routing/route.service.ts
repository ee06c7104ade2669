import { DataSource } from 'typeorm';
import { Account } from '../accounts/account.entity';
import { BillingMode, billingModeFor, planAllowsByok, Role } from '../accounts/plan.enum';
import { Viewer } from '../auth/viewer';
import { Config } from '../config';
import { openKey } from '../crypto/envelope';
import { Keyring } from '../crypto/keyring';
import { AiProvider, AiTask, KeyHealth, PROVIDER_ORDER } from '../providers/ai-provider.enum';
import { MODEL_CATALOG } from '../providers/model-catalog';
import { ProviderKey, PublicProviderKey } from '../provider-keys/provider-key.entity';
import { toProviderKeyType } from '../provider-keys/provider-key.type';
import { ProviderOption } from './ai-settings.type';

// Which provider, model and credential each AI task of an account uses. The first provider (in the
// contract's order) with a stored key wins while the plan allows BYOK; otherwise the platform's built-in
// allocation. The pipelines call resolveCredential in-process; GraphQL only ever sees routes.

export interface AiRoute {
  task: AiTask;
  provider: AiProvider;
  model: string;
  billingMode: BillingMode;
  /** The stored key's health when BYOK; null for the built-in allocation. */
  health: KeyHealth | null;
}

export interface ResolvedCredential extends AiRoute {
  /** The plaintext key: hold it only for the call it is for, never store or log it. */
  apiKey: string;
  /** AZURE_OPENAI: the resource endpoint; the model is the deployment name. */
  endpoint: string | null;
}

export class CredentialUnavailableError extends Error {
  override readonly name = 'CredentialUnavailableError';
}


export const AI_TASKS = Object.values(AiTask);

export class RouteService {
  constructor(
    private readonly deps: { dataSource: DataSource; keyring: Keyring; builtin: Config['builtin'] },
  ) {}

  /** The provider dropdown: every provider of the catalog, this account's billing mode, and (admins) its key. */
  providerOptions(viewer: Viewer): ProviderOption[] {
    return PROVIDER_ORDER.map((provider) => {
      const key = viewer.keys.find((candidate) => candidate.provider === provider);
      const { displayName, keyHint, requiresEndpoint } = MODEL_CATALOG[provider];
      return {
        id: provider,
        provider,
        displayName,
        keyHint,
        requiresEndpoint,
        billingMode: key ? billingModeFor(viewer.plan) : BillingMode.BUILT_IN,
        // Members never get key details, whatever they select: the permission map's ADMIN_OR_NULL nulls it too.
        key: key && viewer.role === Role.ADMIN ? toProviderKeyType(key, viewer.plan) : null,
      };
    });
  }

  /** The route of every task of the viewer's account. */
  routes(viewer: Viewer): AiRoute[] {
    const key = planAllowsByok(viewer.plan) ? viewer.keys[0] : undefined;
    return AI_TASKS.map((task) => this.route(task, key));
  }

  /** For the platform's pipelines: the route of one task plus the credential to call it with. */
  async resolveCredential(accountId: string, task: AiTask): Promise<ResolvedCredential> {
    const account = await this.deps.dataSource.getRepository(Account).findOne({ select: ['id', 'plan'], where: { id: accountId } });
    if (!account) throw new CredentialUnavailableError(`No account ${accountId}.`);
    const key = planAllowsByok(account.plan) ? await this.sealedKey(accountId) : undefined;
    const route = this.route(task, key);
    if (key) {
      return { ...route, apiKey: openKey(key, { accountId, provider: key.provider, keyId: key.id }, this.deps.keyring), endpoint: key.endpoint };
    }
    const apiKey = this.deps.builtin.apiKeys[route.provider];
    if (!apiKey) {
      throw new CredentialUnavailableError(
        `No credential for ${task} of account ${accountId}: it has no usable key of its own and BUILTIN_${route.provider}_API_KEY is not set.`,
      );
    }
    return { ...route, apiKey, endpoint: null };
  }

  /** The key that serves the account's tasks, key material included. */
  private async sealedKey(accountId: string): Promise<ProviderKey | undefined> {
    const keys = await this.deps.dataSource.getRepository(ProviderKey).find({ where: { accountId } });
    return PROVIDER_ORDER.map((provider) => keys.find((key) => key.provider === provider)).find(Boolean);
  }

  private route(task: AiTask, key: PublicProviderKey | undefined): AiRoute {
    if (!key) {
      const provider = this.deps.builtin.provider;
      return { task, provider, model: MODEL_CATALOG[provider].models[task], billingMode: BillingMode.BUILT_IN, health: null };
    }
    const model = key.provider === AiProvider.AZURE_OPENAI && key.deployment ? key.deployment : MODEL_CATALOG[key.provider].models[task];
    return { task, provider: key.provider, model, billingMode: BillingMode.BYOK, health: key.health };
  }
}
