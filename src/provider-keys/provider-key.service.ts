import { Logger } from 'pino';
import { RateLimiterAbstract, RateLimiterRes } from 'rate-limiter-flexible';
import { BillingMode } from '../accounts/billing-mode.enum';
import { Viewer } from '../auth/viewer';
import { KeyDecryptionError } from '../crypto/envelope';
import { badUserInput } from '../graphql/errors';
import { MAX_PAGE_SIZE } from '../graphql/limits';
import { normalizeCandidate } from '../providers/adapters';
import { AiProvider } from '../providers/ai-provider.enum';
import { ConnectionTester, ConnectionTestResult } from '../providers/connection-tester';
import { ProviderInputError } from '../providers/input-error';
import type { CandidateInput, KeyCandidate } from '../providers/provider-adapter';
import {
  conflict,
  keyExists,
  keyNotFound,
  keyRejected,
  rateLimited,
  requireByokPlan,
  testsUnavailable,
} from './provider-key.errors';
import { ProviderKey } from './provider-key.entity';
import { utcDay } from './key-usage';
import { AccountKeys, KeyDetails, ProviderKeyStore, testedColumns } from './provider-key.store';
import {
  AddProviderKeyInput,
  RotateProviderKeyInput,
  TestProviderKeyInput,
  UpdateProviderKeyInput,
} from './provider-key.inputs';
import {
  ConnectionTestType,
  decodeCursor,
  KeyUsageDay,
  ProviderKeyEventConnection,
  ProviderKeyType,
  RemoveProviderKeyPayload,
  toConnectionTest,
  toEventConnection,
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
  now(): Date;
  /** When the key monitor tests a new or rotated key first; null when the monitor is off. */
  nextCheckAt(): Date | null;
  /** Counts tests by the health found and refusals by reason (the metrics); none by default. */
  observe?: TestObserver;
}

export interface TestObserver {
  tested(health: string): void;
  refused(reason: 'rate_limited' | 'store_unavailable'): void;
}

const MAX_USAGE_DAYS = 90;

export class ProviderKeyService {
  constructor(private readonly deps: ProviderKeyServiceDeps) {}

  /** Who counts tests and refusals; set once by the composition root, after wiring. */
  observe(observer: TestObserver): void {
    this.deps.observe = observer;
  }

  /** The keys as read with the viewer's membership, masked. */
  list(viewer: KeysViewer): ProviderKeyType[] {
    return viewer.account.keys.map((key) => toProviderKeyType(key, viewer.plan));
  }

  async add(viewer: KeysViewer, input: AddProviderKeyInput): Promise<ProviderKeyType> {
    requireByokPlan(viewer);
    const candidate = this.normalize(input);
    const expiresAt = this.expiry(input.expiresAt);
    // Refused before any connection test; a key added meanwhile still meets the unique index.
    if (viewer.account.keys.some((key) => key.provider === candidate.provider))
      throw keyExists(candidate.provider);
    const result = input.verify === false ? undefined : await this.verify(viewer, candidate);
    const details = {
      label: input.label?.trim() || null,
      createdBy: viewer.userId,
      expiresAt,
      nextCheckAt: this.deps.nextCheckAt(),
      ...testedColumns(result),
    };
    const added = await this.deps.store.add(viewer.accountId, candidate, details);
    if (added === 'exists') throw keyExists(candidate.provider);
    return toProviderKeyType(added, viewer.plan);
  }

  async test(viewer: KeysViewer, input: TestProviderKeyInput): Promise<ConnectionTestType> {
    requireByokPlan(viewer);
    const deep = input.deep === true; // one test for the rate limit, billed requests or not
    if (input.apiKey != null) {
      const candidate = this.normalize({ ...input, apiKey: input.apiKey });
      await this.consumeTest(viewer);
      return toConnectionTest(await this.runTest(candidate, deep), null);
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
    const apiKey = this.deps.store.open(stored);
    const result = await this.runTest({ provider, apiKey, endpoint, deployment }, deep);
    const key = await this.deps.store.recordTest(stored, testedColumns(result), viewer.userId);
    return toConnectionTest(result, key && toProviderKeyType(key, viewer.plan));
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
    // The expiry belongs to the key it was set for: the new key has its own, or none.
    const expiresAt = this.expiry(input.expiresAt);
    if (this.sameAsStored(current, candidate.apiKey)) {
      throw badUserInput(
        'The new key is the same as the stored one: paste the new key you created at the provider.',
        'apiKey',
      );
    }
    const result = input.verify === false ? undefined : await this.verify(viewer, candidate);
    const { endpoint, deployment, apiKey } = candidate;
    const nextCheckAt = this.deps.nextCheckAt();
    const replacement = { endpoint, deployment, expiresAt, nextCheckAt, ...testedColumns(result) };
    const outcome = await this.deps.store.rotate(
      current,
      expectedVersion,
      apiKey,
      replacement,
      viewer.userId,
    );
    if (outcome.status === 'not-found') throw keyNotFound(input.provider);
    if (outcome.status === 'conflict') throw conflict(outcome.currentVersion, expectedVersion);
    return toProviderKeyType(outcome.key, viewer.plan);
  }

  /** The label or expiry of the stored key (any plan: it spends nothing), with an UPDATED event. */
  async update(viewer: KeysViewer, input: UpdateProviderKeyInput): Promise<ProviderKeyType> {
    const details: KeyDetails = {};
    if (input.label !== undefined) details.label = input.label?.trim() || null;
    if (input.expiresAt !== undefined) details.expiresAt = this.expiry(input.expiresAt);
    if (Object.keys(details).length === 0) {
      throw badUserInput('Give label or expiresAt (or both) to change; the key itself changes by rotation.');
    }
    const key = await this.deps.store.update(viewer.accountId, input.provider, details, viewer.userId);
    if (!key) throw keyNotFound(input.provider);
    return toProviderKeyType(key, viewer.plan);
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
    return toEventConnection(rows, first, hasNewer);
  }

  /** A key's use by the pipelines, per UTC day; the key is one the viewer's request already reached. */
  async usage(keyId: string, days: number): Promise<KeyUsageDay[]> {
    if (!Number.isInteger(days) || days < 1 || days > MAX_USAGE_DAYS) {
      throw badUserInput(`days must be between 1 and ${MAX_USAGE_DAYS}.`, 'days');
    }
    const since = new Date(this.deps.now().getTime() - (days - 1) * 86_400_000);
    return this.deps.store.usageOf(keyId, utcDay(since));
  }

  /** An expiry as given, which must lie in the future; null when none. */
  private expiry(expiresAt: Date | null | undefined): Date | null {
    if (expiresAt == null) return null;
    if (expiresAt.getTime() <= this.deps.now().getTime()) {
      throw badUserInput(
        `expiresAt must lie in the future (it is ${this.deps.now().toISOString()} now): give a later time, or none for a key that does not expire.`,
        'expiresAt',
      );
    }
    // Kept to the second, as MySQL's datetime column holds it, so an answer shows what is stored.
    return new Date(Math.floor(expiresAt.getTime() / 1000) * 1000);
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
    const same = this.deps.store.holds(stored, apiKey);
    if (same instanceof KeyDecryptionError) {
      this.deps.logger.warn(
        { accountId: stored.accountId, provider: stored.provider, keyId: stored.id, reason: same.message },
        'rotating a stored key that cannot be decrypted: not comparing it with the new key',
      );
    }
    return same === true;
  }

  /** Runs the connection test for a key about to be saved; a key that fails it is not saved. */
  private async verify(viewer: KeysViewer, candidate: KeyCandidate): Promise<ConnectionTestResult> {
    await this.consumeTest(viewer);
    const result = await this.runTest(candidate, false);
    if (!result.ok) throw keyRejected(result);
    return result;
  }

  private async runTest(candidate: KeyCandidate, deep: boolean): Promise<ConnectionTestResult> {
    const result = await this.deps.tester.test(candidate, { deep });
    this.deps.observe?.tested(result.health);
    return result;
  }

  private async consumeTest(viewer: KeysViewer): Promise<void> {
    try {
      await this.deps.testLimiter.consume(viewer.accountId);
    } catch (error) {
      if (error instanceof RateLimiterRes) {
        this.deps.observe?.refused('rate_limited');
        throw rateLimited(this.deps.testLimiter.points, error.msBeforeNext);
      }
      // The store is down: refused, never allowed without a limit. Its error names no key.
      this.deps.observe?.refused('store_unavailable');
      const reason = (error as { code?: string }).code ?? (error as Error).message;
      this.deps.logger.warn({ reason }, 'connection test refused: the rate-limit store did not answer');
      throw testsUnavailable();
    }
  }
}
