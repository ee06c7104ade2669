import { AiProvider } from './ai-provider.enum';
import { adapterFor } from './adapters';
import { healthMessage } from './health-message';
import { KeyHealth } from './key-health.enum';
import { missingModels } from './model-catalog';
import { type DnsLookup, OutboundClient } from './outbound-client';
import type { BaseUrls, KeyCandidate, ModelListRequest, ProviderAdapter } from './provider-adapter';

// "Test Connection": proves a key with the provider's token-free model list and says, in our words,
// what state it is in. Provider-side trouble of any kind is a result, never an exception, so callers
// can store and show it; only normalizeCandidate (adapters.ts) throws, for input the customer must fix.

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
}

/** A paginated list is followed at most this far; a key whose models are not there by then lacks them. */
const MAX_PAGES = 10;

interface Diagnosis {
  health: KeyHealth;
  missingModels: string[];
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

  async test(candidate: KeyCandidate): Promise<ConnectionTestResult> {
    const started = performance.now();
    const { health, missingModels } = await this.diagnose(candidate);
    return {
      provider: candidate.provider,
      ok: health === KeyHealth.VALID && missingModels.length === 0,
      health,
      message: healthMessage(candidate.provider, health, missingModels),
      missingModels,
      latencyMs: Math.round(performance.now() - started),
      testedAt: new Date(),
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
      const missing = missingModels(candidate.provider, listed);
      // Stop as soon as every needed model is seen: most keys need one page, so one request.
      const next = modelPage.nextPageToken;
      if (missing.length === 0 || !next || next === pageToken) {
        return { health: KeyHealth.VALID, missingModels: missing };
      }
      pageToken = next;
    }
    return { health: KeyHealth.VALID, missingModels: missingModels(candidate.provider, listed) };
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
