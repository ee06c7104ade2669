import { AiProvider } from './ai-provider.enum';
import { AiTask } from './ai-task.enum';
import { KeyHealth } from './key-health.enum';
import { normalizeAzureEndpoint, normalizeDeployment } from './azure-endpoint';
import { readApiKey } from './candidate-input';
import type { ProviderAdapter } from './provider-adapter';
import { PING, healthFromStatus, joinUrl, stringAt, stringsIn } from './provider-answer';

// Azure OpenAI: GET {endpoint}/openai/models?api-version=2024-10-21 with the api-key header. The list
// names the base models the resource offers, not the customer's deployments: the deployment name is
// validated for shape but cannot be proven by a token-free request; the deep test proves it, with one
// billed request at the deployment itself.

const API_VERSION = '2024-10-21';

export const azureOpenAiAdapter: ProviderAdapter = {
  provider: AiProvider.AZURE_OPENAI,
  displayName: 'Azure OpenAI',
  keyHint: 'KEY 1 or KEY 2 from the resource\'s "Keys and Endpoint" page',
  // One deployment serves every task, so it must run a model good enough for all of them.
  models: {
    [AiTask.INTERVIEW_CONVERSATION]: 'gpt-4.1',
    [AiTask.ANALYSIS]: 'gpt-4.1',
    [AiTask.INSIGHT_GENERATION]: 'gpt-4.1',
  },
  enableModels: 'use a resource in a region that offers them',
  healthAdvice: {
    [KeyHealth.INVALID_KEY]:
      'Azure OpenAI rejected this key: check that it is KEY 1 or KEY 2 of the resource at this endpoint (keys only work with their own resource) and that it has not been regenerated.',
    [KeyHealth.INSUFFICIENT_PERMISSIONS]:
      'Azure OpenAI refused key-based access to this resource: enable key authentication (local auth) on the resource, or check its network rules.',
    [KeyHealth.PROVIDER_UNREACHABLE]:
      "We could not reach this Azure OpenAI endpoint: check that it is your resource's public endpoint and that the resource accepts public network access, then try again.",
  },

  normalize: (input, allowlist) => ({
    provider: AiProvider.AZURE_OPENAI,
    // Keys are 32 hex characters (legacy) or longer alphanumerics: no prefix to check.
    apiKey: readApiKey(azureOpenAiAdapter, input.apiKey),
    endpoint: normalizeAzureEndpoint(input.endpoint, allowlist),
    deployment: normalizeDeployment(input.deployment),
  }),

  modelListRequest(candidate) {
    // normalize() guarantees an endpoint; a stored candidate without one is a programming error.
    if (!candidate.endpoint) throw new Error('Azure OpenAI candidate without an endpoint');
    return {
      url: joinUrl(candidate.endpoint, '/openai/models', { 'api-version': API_VERSION }),
      headers: { 'api-key': candidate.apiKey },
    };
  },

  readModelPage(body) {
    const ids = stringsIn(body, ['data'], 'id');
    return ids && { ids };
  },

  classifyError(status, body) {
    // Key-based auth turned off on the resource (Entra ID only): the key is real but unusable.
    if (status === 403 && stringAt(body, 'error', 'code') === 'AuthenticationTypeDisabled') {
      return KeyHealth.INSUFFICIENT_PERMISSIONS;
    }
    // Azure answers its data plane with OpenAI's error codes, an exhausted quota included.
    if (status === 429 && stringAt(body, 'error', 'code') === 'insufficient_quota') {
      return KeyHealth.QUOTA_EXCEEDED;
    }
    // 401 covers both a wrong key and a key of another region's endpoint: INVALID_KEY either way.
    return healthFromStatus(status, body);
  },

  deepTest: {
    request(candidate) {
      if (!candidate.endpoint) throw new Error('Azure OpenAI candidate without an endpoint');
      return {
        url: joinUrl(
          candidate.endpoint,
          `/openai/deployments/${encodeURIComponent(candidate.deployment ?? '')}/chat/completions`,
          { 'api-version': API_VERSION },
        ),
        headers: { 'api-key': candidate.apiKey },
        // The deployment decides the model: one request, whichever model the catalog names.
        body: { messages: PING, max_tokens: 1 },
      };
    },
    classify(status, body, candidate) {
      // The request names only the deployment, so a 404 is about it (DeploymentNotFound).
      if (status === 404 && body !== undefined) {
        return {
          health: KeyHealth.INSUFFICIENT_PERMISSIONS,
          message: `Azure OpenAI accepted this key but has no deployment named "${candidate.deployment ?? ''}" on this resource: check the deployment name in the Azure AI Foundry portal (the name you gave the deployment, not the model's), then test again.`,
        };
      }
      return { health: azureOpenAiAdapter.classifyError(status, body) };
    },
  },
};
