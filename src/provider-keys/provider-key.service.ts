import crypto from 'node:crypto';
import { Logger } from 'pino';
import { RateLimiterAbstract, RateLimiterRes } from 'rate-limiter-flexible';
import { BillingMode } from '../accounts/billing-mode.enum';
import { planAllowsByok } from '../accounts/plan.enum';
import { Viewer } from '../auth/viewer';
import { KeyDecryptionError } from '../crypto/envelope';
import { AppError, badUserInput, ErrorCode } from '../graphql/errors';
import { MAX_PAGE_SIZE } from '../graphql/limits';
import { normalizeCandidate } from '../providers/adapters';
import { AiProvider } from '../providers/ai-provider.enum';
import { ConnectionTester, ConnectionTestResult } from '../providers/connection-tester';
import { ProviderInputError } from '../providers/input-error';
import { KeyHealth } from '../providers/key-health.enum';
import type { CandidateInput, KeyCandidate } from '../providers/provider-adapter';
import {
  conflict,
  keyExists,
  keyNotFound,
  keyRejected,
  planUpgradeRequired,
  rateLimited,
} from './provider-key.errors';
import { ProviderKey } from './provider-key.entity';
import { AccountKeys, ProviderKeyStore, TestedColumns, toTheSecond } from './provider-key.store';
import { AddProviderKeyInput, RotateProviderKeyInput, TestProviderKeyInput } from './provider-key.inputs';
import {
  ConnectionTestType,
  decodeCursor,
  encodeCursor,
  ProviderKeyEventConnection,
  ProviderKeyType,
  RemoveProviderKeyPayload,
  toProviderKeyEventType,
  toProviderKeyType,
} from './provider-key.type';

// The rules of the BYOK keys of one account: the plan gate, one key per provider, verify before save,
// the connection-test rate limit, optimistic concurrency on rotation, and an audit row for every change.
// Every read and write is the store's, always for the viewer's own account. A plaintext key exists only
// in local variables while it is sealed, compared or tested; it is never stored, cached or logged.

export type KeysViewer = Viewer<AccountKeys>;

export interface ProviderKeyServiceDeps {
  store: ProviderKeyStore;
  tester: ConnectionTester;
  /** TEST_RATE_LIMIT_PER_MINUTE connection tests per account, verify-on-save included. */
  testLimiter: RateLimiterAbstract;
  outboundAllowlist: readonly string[];
  logger: Pick<Logger, 'warn'>;
}

/** What a connection test leaves on a key; an unverified save leaves it UNTESTED. */
function testedColumns(result: ConnectionTestResult | undefined): TestedColumns {
  if (!result) return { health: KeyHealth.UNTESTED, lastTestedAt: null, lastTestMessage: null };
  return {
    health: result.health,
    lastTestedAt: toTheSecond(result.testedAt),
    lastTestMessage: result.message,
  };
}

/** Fixed-length digests, so comparing two keys takes the same time whatever they share. */
const digest = (value: string) => crypto.createHash('sha256').update(value, 'utf8').digest();

export class ProviderKeyService {
  constructor(private readonly deps: ProviderKeyServiceDeps) {}

  /** The keys as read with the viewer's membership, masked. */
  list(viewer: KeysViewer): ProviderKeyType[] {
    return viewer.account.keys.map((key) => toProviderKeyType(key, viewer.plan));
  }

  async add(viewer: KeysViewer, input: AddProviderKeyInput): Promise<ProviderKeyType> {
    requireByokPlan(viewer);
    const candidate = this.normalize(input);
    // Refused before any connection test; a key added meanwhile still meets the unique index.
    if (viewer.account.keys.some((key) => key.provider === candidate.provider))
      throw keyExists(candidate.provider);
    const result = input.verify === false ? undefined : await this.verify(viewer, candidate);
    const { provider, endpoint, deployment } = candidate;
    const label = input.label?.trim() || null;
    const fields = {
      accountId: viewer.accountId,
      provider,
      label,
      endpoint,
      deployment,
      createdBy: viewer.userId,
      ...testedColumns(result),
    };
    const added = await this.deps.store.add(fields, candidate.apiKey, viewer.userId);
    if (added === 'exists') throw keyExists(provider);
    return toProviderKeyType(added, viewer.plan);
  }

  async test(viewer: KeysViewer, input: TestProviderKeyInput): Promise<ConnectionTestType> {
    requireByokPlan(viewer);
    if (input.apiKey != null) {
      const candidate = this.normalize({ ...input, apiKey: input.apiKey });
      await this.consumeTest(viewer);
      return { ...(await this.deps.tester.test(candidate)), key: null };
    }

    const stored = await this.deps.store.find(viewer.accountId, input.provider);
    if (!stored) throw keyNotFound(input.provider);
    const differs = (given: string | null | undefined, kept: string | null) =>
      given != null && given.trim() !== '' && given.trim() !== kept;
    if (differs(input.endpoint, stored.endpoint) || differs(input.deployment, stored.deployment)) {
      throw badUserInput(
        'The stored key is tested with its own endpoint and deployment: pass apiKey to test a new combination, or rotate the key.',
      );
    }
    await this.consumeTest(viewer);
    const { provider, endpoint, deployment } = stored;
    const result = await this.deps.tester.test({
      provider,
      apiKey: this.deps.store.open(stored),
      endpoint,
      deployment,
    });
    const key = await this.deps.store.recordTest(stored, testedColumns(result), viewer.userId);
    return { ...result, key: key && toProviderKeyType(key, viewer.plan) };
  }

  async rotate(viewer: KeysViewer, input: RotateProviderKeyInput): Promise<ProviderKeyType> {
    requireByokPlan(viewer);
    const current = await this.deps.store.find(viewer.accountId, input.provider);
    if (!current) throw keyNotFound(input.provider);
    const { expectedVersion } = input;
    if (expectedVersion != null && expectedVersion !== current.version)
      throw conflict(current.version, expectedVersion);

    const candidate = this.normalize({
      ...input,
      endpoint: input.endpoint ?? current.endpoint,
      deployment: input.deployment ?? current.deployment,
    });
    if (this.sameAsStored(current, candidate.apiKey)) {
      throw badUserInput(
        'The new key is the same as the stored one: paste the new key you created at the provider.',
        'apiKey',
      );
    }
    const result = input.verify === false ? undefined : await this.verify(viewer, candidate);
    const { endpoint, deployment } = candidate;
    const outcome = await this.deps.store.rotate(
      current,
      expectedVersion,
      candidate.apiKey,
      { endpoint, deployment, ...testedColumns(result) },
      viewer.userId,
    );
    if (outcome.status === 'not-found') throw keyNotFound(input.provider);
    if (outcome.status === 'conflict') throw conflict(outcome.currentVersion, expectedVersion);
    return toProviderKeyType(outcome.key, viewer.plan);
  }

  async remove(viewer: KeysViewer, provider: AiProvider): Promise<RemoveProviderKeyPayload> {
    const id = await this.deps.store.remove(viewer.accountId, provider, viewer.userId);
    if (id === undefined) throw keyNotFound(provider);
    return { id, provider, billingMode: BillingMode.BUILT_IN };
  }

  /** The audit trail, newest first; forward paging by cursor. */
  async events(
    viewer: KeysViewer,
    first: number,
    after: string | null | undefined,
  ): Promise<ProviderKeyEventConnection> {
    if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) {
      throw badUserInput(`first must be between 1 and ${MAX_PAGE_SIZE}.`, 'first');
    }
    const before = after ? decodeCursor(after) : undefined;
    const { rows, hasNewer } = await this.deps.store.events(viewer.accountId, first + 1, before);
    const edges = rows
      .slice(0, first)
      .map((event) => ({ cursor: encodeCursor(event.id), node: toProviderKeyEventType(event) }));
    return {
      edges,
      pageInfo: {
        hasNextPage: rows.length > first,
        endCursor: edges.at(-1)?.cursor ?? null,
        // Forward-only paging: the events newer than this page are the cursor's own and any after it.
        hasPreviousPage: hasNewer,
        startCursor: edges[0]?.cursor ?? null,
      },
    };
  }

  /** The providers' input checks, answered as BAD_USER_INPUT naming the field. */
  private normalize(input: CandidateInput): KeyCandidate {
    try {
      return normalizeCandidate(input, this.deps.outboundAllowlist);
    } catch (error) {
      if (error instanceof ProviderInputError) throw badUserInput(error.message, error.field);
      throw error;
    }
  }

  /**
   * Whether the new key equals the stored one. A stored key that cannot be decrypted (sealed under a
   * master key version the keyring lacks, or damaged) is exactly the key an admin must be able to replace,
   * so the comparison is skipped then, with a warning that says why (the error's fixed text, no key bytes).
   */
  private sameAsStored(stored: ProviderKey, apiKey: string): boolean {
    let storedKey: string;
    try {
      storedKey = this.deps.store.open(stored);
    } catch (error) {
      if (!(error instanceof KeyDecryptionError)) throw error;
      this.deps.logger.warn(
        { accountId: stored.accountId, provider: stored.provider, keyId: stored.id, reason: error.message },
        'rotating a stored key that cannot be decrypted: not comparing it with the new key',
      );
      return false;
    }
    return crypto.timingSafeEqual(digest(apiKey), digest(storedKey));
  }

  /** Runs the connection test for a key about to be saved; a key that fails it is not saved. */
  private async verify(viewer: KeysViewer, candidate: KeyCandidate): Promise<ConnectionTestResult> {
    await this.consumeTest(viewer);
    const result = await this.deps.tester.test(candidate);
    if (!result.ok) throw keyRejected(result);
    return result;
  }

  private async consumeTest(viewer: KeysViewer): Promise<void> {
    try {
      await this.deps.testLimiter.consume(viewer.accountId);
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw error;
      throw rateLimited(this.deps.testLimiter.points, error.msBeforeNext);
    }
  }
}

function requireByokPlan(viewer: Viewer): void {
  if (!planAllowsByok(viewer.plan)) throw planUpgradeRequired();
}
