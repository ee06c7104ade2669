import type { AiProvider, KeyHealth } from './ai-provider.enum';

// One adapter per provider: how its keys look, how its token-free model list is asked for, and how
// its answers read. Adapters do no I/O, so each can be read against ../shared/providers.md alone;
// connection-tester.ts does the requests.

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

/** Base URLs of the hosted providers (OPENAI_BASE_URL etc.); Azure uses the key's own endpoint. */
export interface BaseUrls {
  OPENAI: string;
  ANTHROPIC: string;
  GOOGLE_GEMINI: string;
  MISTRAL: string;
}

export interface ModelListRequest {
  url: string;
  /** The key travels only here, in the provider's own auth header. */
  headers: Record<string, string>;
}

export interface ModelPage {
  ids: string[];
  /** Present when the provider says more pages follow. */
  nextPageToken?: string;
}

export interface ProviderAdapter {
  readonly provider: AiProvider;
  /** Validates key, endpoint and deployment before any network call; throws BAD_USER_INPUT. */
  normalize(input: CandidateInput, allowlist: readonly string[]): KeyCandidate;
  /** The model-list request for one page (the first when pageToken is undefined). */
  modelListRequest(candidate: KeyCandidate, baseUrls: BaseUrls, pageToken?: string): ModelListRequest;
  /** Reads a 2xx answer; undefined when it is not a model list. */
  readModelPage(body: unknown): ModelPage | undefined;
  /** Health of a non-2xx, non-3xx answer from its status and code/type/reason fields. */
  classifyError(status: number, body: unknown): KeyHealth;
}
