import { AiProvider, AiTask } from './ai-provider.enum';

// What the platform uses from each provider: the provider dropdown reads displayName/keyHint/
// requiresEndpoint, routing reads the model per task, and connection tests check that a key can
// use every model listed here. Changing a model here changes what a key must be able to reach.
//
// Per task, the same shape for every provider: the conversation needs a fast, strong chat model;
// analysis is high-volume tagging of transcripts, so a cheaper model; insight generation reasons
// across many analyses, so a reasoning-capable model.

export interface ProviderCatalogEntry {
  displayName: string;
  /** Shown under the key field; never a real key. */
  keyHint: string;
  /** AZURE_OPENAI only: the key belongs to the customer's own resource endpoint. */
  requiresEndpoint: boolean;
  /**
   * The model id per task. For AZURE_OPENAI requests are routed to the key's deployment, so these
   * are the base models the resource must offer, not names we call.
   */
  models: Readonly<Record<AiTask, string>>;
}

export const MODEL_CATALOG: Readonly<Record<AiProvider, ProviderCatalogEntry>> = {
  [AiProvider.OPENAI]: {
    displayName: 'OpenAI',
    keyHint: 'Starts with sk-',
    requiresEndpoint: false,
    models: {
      [AiTask.INTERVIEW_CONVERSATION]: 'gpt-4.1',
      [AiTask.ANALYSIS]: 'gpt-4.1-mini',
      [AiTask.INSIGHT_GENERATION]: 'o4-mini',
    },
  },
  [AiProvider.ANTHROPIC]: {
    displayName: 'Anthropic',
    keyHint: 'Starts with sk-ant-',
    requiresEndpoint: false,
    models: {
      [AiTask.INTERVIEW_CONVERSATION]: 'claude-sonnet-4-5',
      [AiTask.ANALYSIS]: 'claude-haiku-4-5',
      [AiTask.INSIGHT_GENERATION]: 'claude-sonnet-4-5',
    },
  },
  [AiProvider.GOOGLE_GEMINI]: {
    displayName: 'Google Gemini',
    keyHint: 'Starts with AIza',
    requiresEndpoint: false,
    models: {
      [AiTask.INTERVIEW_CONVERSATION]: 'gemini-2.5-flash',
      [AiTask.ANALYSIS]: 'gemini-2.5-flash',
      [AiTask.INSIGHT_GENERATION]: 'gemini-2.5-pro',
    },
  },
  [AiProvider.AZURE_OPENAI]: {
    displayName: 'Azure OpenAI',
    keyHint: 'KEY 1 or KEY 2 from the resource\'s "Keys and Endpoint" page',
    requiresEndpoint: true,
    // One deployment serves every task, so it must run a model good enough for all of them.
    models: {
      [AiTask.INTERVIEW_CONVERSATION]: 'gpt-4.1',
      [AiTask.ANALYSIS]: 'gpt-4.1',
      [AiTask.INSIGHT_GENERATION]: 'gpt-4.1',
    },
  },
  [AiProvider.MISTRAL]: {
    displayName: 'Mistral AI',
    keyHint: 'From the API Keys page of the Mistral console',
    requiresEndpoint: false,
    models: {
      [AiTask.INTERVIEW_CONVERSATION]: 'mistral-large-latest',
      [AiTask.ANALYSIS]: 'mistral-small-latest',
      [AiTask.INSIGHT_GENERATION]: 'mistral-large-latest',
    },
  },
};

/** The distinct models a key for this provider must be able to use, in task order. */
export function requiredModels(provider: AiProvider): string[] {
  return [...new Set(Object.values(MODEL_CATALOG[provider].models))];
}

// A provider may list a model only under a dated or versioned snapshot id (Anthropic lists
// claude-sonnet-4-5-20250929, Azure gpt-4.1-2025-04-14, Gemini gemini-1.5-flash-001). Such a
// snapshot proves access to the model; any other suffix names a different model (gpt-4.1-mini is
// not gpt-4.1, o4-mini-deep-research is not o4-mini, a -preview-… is not the stable model).
const SNAPSHOT_SUFFIX = /^-(\d{4}-\d{2}-\d{2}|\d{8}|\d{3,4})$/;

function offers(listedIds: ReadonlySet<string>, model: string): boolean {
  if (listedIds.has(model)) return true;
  for (const id of listedIds) {
    if (id.startsWith(model) && SNAPSHOT_SUFFIX.test(id.slice(model.length))) return true;
  }
  return false;
}

/** The required models of the provider that the listed ids do not cover (see SNAPSHOT_SUFFIX). */
export function missingModels(provider: AiProvider, listedIds: Iterable<string>): string[] {
  const listed = new Set(listedIds);
  return requiredModels(provider).filter((model) => !offers(listed, model));
}
