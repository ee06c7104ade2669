import type { AiProvider } from './ai-provider.enum';
import type { AiTask } from './ai-task.enum';
import type { KeyHealth } from './key-health.enum';

// One adapter per provider, describing itself: what the dropdown shows, how its keys look, where its API
// is and which variable moves it, the model per task, how its token-free model list is asked for and
// how its answers read, how its deep test bills one token per model, and how to fix what a test finds.
// Adapters do no I/O, so each can be read against ../shared/providers.md alone; connection-tester.ts
// does the requests. The list is adapters.ts.

/** What a client typed, before validation. */
export interface CandidateInput {
  provider: AiProvider;
  apiKey: string;
  endpoint?: string | null;
  deployment?: string | null;
}

/** A validated key ready to test: trimmed key, normalized endpoint (AZURE_OPENAI only). */
export interface KeyCandidate {
  provider: AiProvider;
  apiKey: string;
  endpoint: string | null;
  deployment: string | null;
}

/** The base URL of each hosted provider, as configured (OPENAI_BASE_URL etc.); Azure keys carry their own. */
export type BaseUrls = Readonly<Partial<Record<AiProvider, string>>>;

export interface ModelListRequest {
  url: string;
  /** The key travels only here, in the provider's own auth header. */
  headers: Record<string, string>;
}

/** A deep test's billed request: one output token from one model, the key only in `headers`. */
export interface BilledRequest extends ModelListRequest {
  /** Sent as JSON; never holds the key. */
  body: unknown;
}

/** What one billed request's non-2xx answer says about the key. */
export interface DeepVerdict {
  health: KeyHealth;
  /** The answer means the key cannot use the model asked for: it joins missingModels. */
  modelMissing?: boolean;
  /** Our sentence, where the general advice for `health` would mislead. */
  message?: string;
}

/**
 * The deep test (../shared/providers.md "Deep test"): a billed chat/messages request per needed model,
 * which shows what a model list cannot, such as an account out of credit.
 */
export interface DeepTest {
  request(candidate: KeyCandidate, baseUrls: BaseUrls, model: string): BilledRequest;
  /** Reads a non-2xx, non-3xx answer; any 2xx is a pass (one token was asked for, so it may be empty). */
  classify(status: number, body: unknown, candidate: KeyCandidate): DeepVerdict;
}

export interface ModelPage {
  ids: string[];
  /** Present when the provider says more pages follow. */
  nextPageToken?: string;
}

export interface ProviderAdapter {
  readonly provider: AiProvider;
  readonly displayName: string;
  /** The documented key prefix; none for providers whose keys have no fixed start. */
  readonly keyPrefix?: string;
  /** Shown under the key field; never a real key. */
  readonly keyHint: string;
  /**
   * A hosted API: its default base URL (what the official SDK takes) and the variable that overrides
   * it. Absent for Azure OpenAI, whose every key names its own resource endpoint.
   */
  readonly api?: { baseUrl: string; env: string };
  /**
   * The model per task: what routing uses and what a key must be able to reach. For Azure OpenAI
   * requests go to the key's deployment, so these are the base models the resource must offer.
   */
  readonly models: Readonly<Record<AiTask, string>>;
  /** How to give a key the models it lacks, ending a sentence: "…, then test again". */
  readonly enableModels: string;
  /** This provider's own advice per health, where the fix differs from the general one. */
  readonly healthAdvice?: Readonly<Partial<Record<KeyHealth, string>>>;
  /** Validates key, endpoint and deployment before any network call; throws ProviderInputError. */
  normalize(input: CandidateInput, allowlist: readonly string[]): KeyCandidate;
  /** The model-list request for one page (the first when pageToken is undefined). */
  modelListRequest(candidate: KeyCandidate, baseUrls: BaseUrls, pageToken?: string): ModelListRequest;
  /** Reads a 2xx answer; undefined when it is not a model list. */
  readModelPage(body: unknown): ModelPage | undefined;
  /** Health of a non-2xx, non-3xx answer from its status and code/type/reason fields. */
  classifyError(status: number, body: unknown): KeyHealth;
  readonly deepTest: DeepTest;
}

/** The configured base URL of a hosted provider; a missing one is a wiring mistake, not input. */
export function baseUrlOf(baseUrls: BaseUrls, provider: AiProvider): string {
  const url = baseUrls[provider];
  if (!url) throw new Error(`no base URL configured for ${provider}`);
  return url;
}
