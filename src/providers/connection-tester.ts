import { AiProvider } from './ai-provider.enum';
import { adapterFor } from './adapters';
import { healthMessage } from './health-message';
import { KeyHealth } from './key-health.enum';
import { missingModels, requiredModels } from './model-catalog';
import { type DnsLookup, OutboundClient } from './outbound-client';
import type {
  BaseUrls,
  BilledRequest,
  DeepVerdict,
  KeyCandidate,
  ModelListRequest,
  ProviderAdapter,
} from './provider-adapter';

// "Test Connection": proves a key with the provider's token-free model list and says, in our words,
// what state it is in. Provider-side trouble of any kind is a result, never an exception, so callers
// can store and show it; only normalizeCandidate (adapters.ts) throws, for input the customer must fix.
// A deep test then also spends one output token per needed model, which a list cannot show: credit.

export const DEFAULT_TIMEOUT_MS = 10_000;

export interface ProviderSettings {
  /** The hosted providers' base URLs (OPENAI_BASE_URL and the others: see each adapter's `api`). */
  baseUrls: BaseUrls;
  /** PROVIDER_TIMEOUT_MS: the deadline for a whole test, every page included. */
  timeoutMs: number;
  /** OUTBOUND_ALLOWLIST: "host" or "host:port" entries exempt from the outbound policy. */
  outboundAllowlist: string[];
  /** Tests only: replaces dns.lookup. */
  lookup?: DnsLookup;
}

export interface ConnectionTestResult {
  provider: AiProvider;
  ok: boolean;
  health: KeyHealth;
  message: string;
  missingModels: string[];
  latencyMs: number;
  testedAt: Date;
  /** Whether billed requests were made (a deep test whose model list passed). */
  deep: boolean;
  /**
   * The model ids the key's list returned, deduplicated, within MAX_LISTED_MODELS and MAX_LISTED_BYTES; undefined when no
   * list was read (the key failed, or the provider did not answer one). Stored as `availableModels`.
   */
  listedModels: string[] | undefined;
}

export interface TestOptions {
  /** Also make one minimal billed request per needed model (providers.md "Deep test"). */
  deep?: boolean;
}

/** A paginated list is followed at most this far; a key whose models are not there by then lacks them. */
const MAX_PAGES = 10;
/** What a key's model list is kept to: ids only, enough for any provider's catalog today. */
export const MAX_LISTED_MODELS = 2000;
/** The stored list is a JSON array in a TEXT column (64 KiB on MySQL): it stays below this many bytes. */
export const MAX_LISTED_BYTES = 60_000;
/** No provider names a model this long; a longer id is something else and is not kept. */
const MAX_MODEL_ID_LENGTH = 200;

/** The distinct ids of a key's list, in the provider's order, within both bounds. */
function boundedIds(listed: string[]): string[] {
  const kept: string[] = [];
  let bytes = 2; // the brackets of the JSON array
  for (const id of new Set(listed)) {
    if (id.length > MAX_MODEL_ID_LENGTH) continue;
    bytes += Buffer.byteLength(JSON.stringify(id)) + 1;
    if (kept.length === MAX_LISTED_MODELS || bytes > MAX_LISTED_BYTES) break;
    kept.push(id);
  }
  return kept;
}

interface Diagnosis {
  health: KeyHealth;
  missingModels: string[];
  /** Our sentence when the general one for the health would mislead (a deep test's finding). */
  message?: string;
  deep?: boolean;
  listed?: string[];
}

export class ConnectionTester {
  private readonly client: OutboundClient;

  constructor(private readonly settings: ProviderSettings) {
    this.client = new OutboundClient({
      timeoutMs: settings.timeoutMs,
      allowlist: settings.outboundAllowlist,
      lookup: settings.lookup,
    });
  }

  async test(candidate: KeyCandidate, options: TestOptions = {}): Promise<ConnectionTestResult> {
    const started = performance.now();
    let diagnosis = await this.diagnose(candidate);
    // A key the list already failed gains nothing from a billed request.
    if (options.deep && diagnosis.health === KeyHealth.VALID) {
      // What the key's list returned stays true whatever the billed requests find.
      const { listed } = diagnosis;
      diagnosis = { ...(await this.diagnoseDeep(candidate, diagnosis.missingModels)), listed };
    }
    const { health, missingModels, message, deep = false, listed } = diagnosis;
    return {
      provider: candidate.provider,
      ok: health === KeyHealth.VALID && missingModels.length === 0,
      health,
      message: message ?? healthMessage(candidate.provider, health, missingModels),
      missingModels,
      latencyMs: Math.round(performance.now() - started),
      testedAt: new Date(),
      deep,
      listedModels: listed && boundedIds(listed),
    };
  }

  /** Waits for in-flight tests, then releases connections. */
  close(): Promise<void> {
    return this.client.close();
  }

  private async diagnose(candidate: KeyCandidate): Promise<Diagnosis> {
    const adapter = adapterFor(candidate.provider);
    const signal = AbortSignal.timeout(this.settings.timeoutMs);
    const listed: string[] = [];
    let pageToken: string | undefined;

    for (let page = 0; page < MAX_PAGES; page++) {
      const request = this.buildRequest(adapter, candidate, pageToken);
      if (!request) return only(KeyHealth.PROVIDER_UNREACHABLE);

      const outcome = await this.client.get(request.url, request.headers, signal);
      // A redirect, refused address, DNS or TLS failure or the deadline: we never heard the provider.
      if (outcome.kind === 'unreachable') return only(KeyHealth.PROVIDER_UNREACHABLE);
      // Over 1 MiB is no model list of any provider we know: something else answered.
      if (outcome.kind === 'oversized') return only(KeyHealth.PROVIDER_ERROR);
      if (outcome.status < 200 || outcome.status >= 300) {
        return only(adapter.classifyError(outcome.status, outcome.body));
      }

      const modelPage = adapter.readModelPage(outcome.body);
      if (!modelPage) return only(KeyHealth.PROVIDER_ERROR);
      listed.push(...modelPage.ids);
      // The whole list, for availableModels: at a page size of 1000, nearly every key has one page.
      const next = modelPage.nextPageToken;
      if (!next || next === pageToken || listed.length >= MAX_LISTED_MODELS) break;
      pageToken = next;
    }
    return { health: KeyHealth.VALID, missingModels: missingModels(candidate.provider, listed), listed };
  }

  /**
   * One billed request per needed model the list did not already rule out, side by side under one
   * deadline (the list's timeout, again). The first model in catalog order that fails decides the
   * health; models answered 404 join the missing ones.
   */
  private async diagnoseDeep(candidate: KeyCandidate, listedMissing: string[]): Promise<Diagnosis> {
    const adapter = adapterFor(candidate.provider);
    const signal = AbortSignal.timeout(this.settings.timeoutMs);
    const models = requiredModels(candidate.provider).filter((model) => !listedMissing.includes(model));
    if (models.length === 0) return { health: KeyHealth.VALID, missingModels: listedMissing };

    // Identical requests are sent once (Azure's one deployment serves every model of its catalog).
    const requests = new Map<string, { request: BilledRequest; models: string[] }>();
    for (const model of models) {
      const request = this.buildDeepRequest(adapter, candidate, model);
      if (!request) return only(KeyHealth.PROVIDER_UNREACHABLE);
      const id = JSON.stringify([request.url, request.body]);
      requests.set(id, { request, models: [...(requests.get(id)?.models ?? []), model] });
    }
    const verdicts = await Promise.all(
      [...requests.values()].map(async ({ request, models }) => ({
        models,
        verdict: await this.billedVerdict(adapter, candidate, request, signal),
      })),
    );
    const failed = verdicts.find(
      ({ verdict }) => !verdict.modelMissing && verdict.health !== KeyHealth.VALID,
    )?.verdict;
    if (failed) return { health: failed.health, message: failed.message, missingModels: [], deep: true };
    const refused = verdicts.filter(({ verdict }) => verdict.modelMissing).flatMap(({ models }) => models);
    const missing = requiredModels(candidate.provider).filter(
      (model) => listedMissing.includes(model) || refused.includes(model),
    );
    return { health: KeyHealth.VALID, missingModels: missing, deep: true };
  }

  private async billedVerdict(
    adapter: ProviderAdapter,
    candidate: KeyCandidate,
    request: BilledRequest,
    signal: AbortSignal,
  ): Promise<DeepVerdict> {
    const outcome = await this.client.post(request.url, request.headers, request.body, signal);
    if (outcome.kind === 'unreachable') return { health: KeyHealth.PROVIDER_UNREACHABLE };
    if (outcome.kind === 'oversized') return { health: KeyHealth.PROVIDER_ERROR };
    if (outcome.status >= 200 && outcome.status < 300) {
      // Any JSON answer passes, an empty or cut-off completion too: one token was asked for. A body that
      // is not JSON came from something other than the provider's API (a portal, a proxy).
      return { health: outcome.body === undefined ? KeyHealth.PROVIDER_ERROR : KeyHealth.VALID };
    }
    return adapter.deepTest.classify(outcome.status, outcome.body, candidate);
  }

  private buildDeepRequest(
    adapter: ProviderAdapter,
    candidate: KeyCandidate,
    model: string,
  ): BilledRequest | undefined {
    try {
      return adapter.deepTest.request(candidate, this.settings.baseUrls, model);
    } catch {
      return undefined;
    }
  }

  /** A URL that cannot be built (a malformed base URL in configuration) cannot be reached either. */
  private buildRequest(
    adapter: ProviderAdapter,
    candidate: KeyCandidate,
    pageToken: string | undefined,
  ): ModelListRequest | undefined {
    try {
      return adapter.modelListRequest(candidate, this.settings.baseUrls, pageToken);
    } catch {
      return undefined;
    }
  }
}

function only(health: KeyHealth): Diagnosis {
  return { health, missingModels: [] };
}
