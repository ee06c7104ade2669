import crypto from 'node:crypto';
import { DataSource, EntityManager, EntityTarget, LessThan, MoreThanOrEqual, ObjectLiteral } from 'typeorm';
import { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { RateLimiterAbstract, RateLimiterRes } from 'rate-limiter-flexible';
import { BillingMode, Plan, planAllowsByok } from '../accounts/plan.enum';
import { Viewer } from '../auth/viewer';
import { KeyBinding, KeyDecryptionError, openKey, sealKey, SealedKey } from '../crypto/envelope';
import { Keyring } from '../crypto/keyring';
import { inTransaction } from '../db/transaction';
import type { Logger } from '../logger';
import { AppError, badUserInput, ErrorCode } from '../graphql/errors';
import { MAX_PAGE_SIZE } from '../graphql/limits';
import { AiProvider, KeyHealth } from '../providers/ai-provider.enum';
import { ConnectionTester, ConnectionTestResult, KeyCandidate, normalizeCandidate } from '../providers/connection-tester';
import { MODEL_CATALOG } from '../providers/model-catalog';
import { PROVIDER_KEY_PUBLIC_COLUMNS, ProviderKey, PublicProviderKey } from './provider-key.entity';
import { ProviderKeyAction, ProviderKeyEvent } from './provider-key-event.entity';
import { AddProviderKeyInput, RotateProviderKeyInput, TestProviderKeyInput } from './provider-key.inputs';
import {
  ConnectionTestType,
  ProviderKeyEventConnection,
  RemoveProviderKeyPayload,
  toProviderKeyEventType,
  toProviderKeyType,
  ProviderKeyType,
} from './provider-key.type';

// The BYOK keys of one account: add, list, test, rotate, remove, and the audit trail. Every query is
// filtered by the viewer's account here, not only by the permission rules. A plaintext key exists only
// in local variables while it is sealed, compared or tested; it is never stored, cached or logged.

export interface ProviderKeyServiceDeps {
  dataSource: DataSource;
  keyring: Keyring;
  tester: ConnectionTester;
  /** TEST_RATE_LIMIT_PER_MINUTE connection tests per account, verify-on-save included. */
  testLimiter: RateLimiterAbstract;
  outboundAllowlist: string[];
  logger: Pick<Logger, 'warn'>;
}


const bindingOf = (key: Pick<ProviderKey, 'accountId' | 'provider' | 'id'>): KeyBinding => ({
  accountId: key.accountId,
  provider: key.provider,
  keyId: key.id,
});

const lastFourOf = (apiKey: string) => apiKey.slice(-4);

function requireByokPlan(viewer: Viewer): void {
  if (!planAllowsByok(viewer.plan)) {
    throw new AppError(
      ErrorCode.PLAN_UPGRADE_REQUIRED,
      'Bringing your own AI provider key needs the Growth plan or above. Upgrade the plan to add, test or rotate keys.',
      { requiredPlan: Plan.GROWTH },
    );
  }
}

const notFound = (provider: AiProvider) =>
  new AppError(ErrorCode.PROVIDER_KEY_NOT_FOUND, `No key for ${MODEL_CATALOG[provider].displayName} is stored for this account.`, { provider });

function rejected(result: ConnectionTestResult): AppError {
  return new AppError(ErrorCode.KEY_REJECTED, `The key was not saved: ${result.message}`, {
    health: result.health,
    message: result.message,
    missingModels: result.missingModels,
  });
}

/**
 * An INSERT and nothing else: `manager.insert` reads each row back on MySQL to fill in its defaults,
 * one more round trip inside the transaction for values nobody reads.
 */
async function insertOnly<T extends ObjectLiteral>(manager: EntityManager, target: EntityTarget<T>, values: QueryDeepPartialEntity<T>): Promise<void> {
  await manager.createQueryBuilder().insert().into(target).values(values).updateEntity(false).execute();
}

/**
 * What a connection test leaves on a key (nothing, when it was saved unverified). The time is kept to
 * the second on both databases, as MySQL's column holds it, so an answer built here shows what is stored.
 */
function testedColumns(result: ConnectionTestResult | undefined): Pick<ProviderKey, 'health' | 'lastTestedAt' | 'lastTestMessage'> {
  if (!result) return { health: KeyHealth.UNTESTED, lastTestedAt: null, lastTestMessage: null };
  return { health: result.health, lastTestedAt: new Date(Math.floor(result.testedAt.getTime() / 1000) * 1000), lastTestMessage: result.message };
}

/** Zeros as long as each stored value, so the overwrite replaces the key material where it lies. */
function zeroedKeyMaterial(manager: EntityManager): QueryDeepPartialEntity<ProviderKey> {
  const zeros = (column: string) =>
    manager.connection.options.type === 'better-sqlite3' ? () => `zeroblob(length(${column}))` : () => `REPEAT(X'00', LENGTH(${column}))`;
  return { ciphertext: zeros('ciphertext'), iv: zeros('iv'), tag: zeros('auth_tag'), wrappedKey: zeros('wrapped_key') };
}

function isUniqueViolation(error: unknown): boolean {
  const code = (error as { driverError?: { code?: string } }).driverError?.code;
  return code === 'ER_DUP_ENTRY' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

function encodeCursor(id: number): string {
  return Buffer.from(`event:${id}`).toString('base64url');
}

function decodeCursor(cursor: string): number {
  const match = /^event:(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) throw badUserInput('after is not a cursor this API returned: pass the endCursor of the previous page.', 'after');
  return Number(match[1]);
}

export class ProviderKeyService {
  constructor(private readonly deps: ProviderKeyServiceDeps) {}

  /** The keys as read with the viewer's membership, masked. */
  list(viewer: Viewer): ProviderKeyType[] {
    return viewer.keys.map((key) => toProviderKeyType(key, viewer.plan));
  }

  async add(viewer: Viewer, input: AddProviderKeyInput): Promise<ProviderKeyType> {
    requireByokPlan(viewer);
    const candidate = normalizeCandidate(input, this.deps.outboundAllowlist);
    const label = input.label?.trim() || null;
    // Refused before any connection test; a key added meanwhile still meets the unique index below.
    if (viewer.keys.some((key) => key.provider === candidate.provider)) throw this.exists(candidate.provider);
    const result = input.verify === false ? undefined : await this.verify(viewer, candidate);

    const key = new ProviderKey();
    const now = new Date(); // set here, not by the database: the answer needs no read-back
    Object.assign(key, {
      id: crypto.randomUUID(),
      accountId: viewer.accountId,
      provider: candidate.provider,
      lastFour: lastFourOf(candidate.apiKey),
      label,
      endpoint: candidate.endpoint,
      deployment: candidate.deployment,
      ...testedColumns(result),
      version: 1,
      createdBy: viewer.userId,
      createdAt: now,
      updatedAt: now,
    });
    Object.assign(key, this.seal(candidate.apiKey, key));
    try {
      await inTransaction(this.deps.dataSource, async (manager) => {
        await insertOnly(manager, ProviderKey, key);
        await this.record(manager, viewer, key, ProviderKeyAction.ADDED);
      });
      return toProviderKeyType(key, viewer.plan);
    } catch (error) {
      if (isUniqueViolation(error)) throw this.exists(candidate.provider);
      throw error;
    }
  }

  async test(viewer: Viewer, input: TestProviderKeyInput): Promise<ConnectionTestType> {
    requireByokPlan(viewer);
    if (input.apiKey != null) {
      const candidate = normalizeCandidate({ ...input, apiKey: input.apiKey }, this.deps.outboundAllowlist);
      await this.consumeTest(viewer);
      return { ...(await this.deps.tester.test(candidate)), key: null };
    }

    const stored = await this.find(this.deps.dataSource.manager, viewer.accountId, input.provider);
    if (!stored) throw notFound(input.provider);
    const differs = (given: string | null | undefined, kept: string | null) => given != null && given.trim() !== '' && given.trim() !== kept;
    if (differs(input.endpoint, stored.endpoint) || differs(input.deployment, stored.deployment)) {
      throw badUserInput('The stored key is tested with its own endpoint and deployment: pass apiKey to test a new combination, or rotate the key.');
    }
    await this.consumeTest(viewer);
    const result = await this.deps.tester.test({
      provider: stored.provider,
      apiKey: openKey(stored, bindingOf(stored), this.deps.keyring),
      endpoint: stored.endpoint,
      deployment: stored.deployment,
    });
    // updatedAt set here, not by the database, so the answer below needs no read-back.
    const tested = { ...testedColumns(result), updatedAt: new Date() };
    const key = await inTransaction(this.deps.dataSource, async (manager) => {
      // Recorded only if the key tested is still the stored one (a rotation may have landed meanwhile).
      const updated = await manager.update(ProviderKey, { id: stored.id, accountId: viewer.accountId, version: stored.version }, tested);
      if (!updated.affected) {
        // Not recorded: the client is shown the key as it is stored now (none, if it was removed).
        const now = await this.findPublic(manager, viewer.accountId, input.provider);
        return now && toProviderKeyType(now, viewer.plan);
      }
      await this.record(manager, viewer, stored, ProviderKeyAction.TESTED, result.health);
      return toProviderKeyType({ ...stored, ...tested }, viewer.plan);
    });
    return { ...result, key };
  }

  async rotate(viewer: Viewer, input: RotateProviderKeyInput): Promise<ProviderKeyType> {
    requireByokPlan(viewer);
    const current = await this.find(this.deps.dataSource.manager, viewer.accountId, input.provider);
    if (!current) throw notFound(input.provider);
    const conflict = (version: number) =>
      new AppError(ErrorCode.CONFLICT, `The key changed meanwhile: it is at version ${version}, not ${input.expectedVersion}. Reload and try again.`, {
        currentVersion: version,
      });
    if (input.expectedVersion != null && input.expectedVersion !== current.version) throw conflict(current.version);

    const candidate = normalizeCandidate(
      { ...input, endpoint: input.endpoint ?? current.endpoint, deployment: input.deployment ?? current.deployment },
      this.deps.outboundAllowlist,
    );
    if (this.sameAsStored(current, candidate.apiKey)) {
      throw badUserInput('The new key is the same as the stored one: paste the new key you created at the provider.', 'apiKey');
    }
    const result = input.verify === false ? undefined : await this.verify(viewer, candidate);
    const sealed = this.seal(candidate.apiKey, current);

    return inTransaction(this.deps.dataSource, async (manager) => {
      const locked = await this.find(manager, viewer.accountId, input.provider, true);
      if (!locked || locked.id !== current.id) throw notFound(input.provider);
      if (input.expectedVersion != null && input.expectedVersion !== locked.version) throw conflict(locked.version);
      const changes: Partial<ProviderKey> = {
        ...sealed,
        lastFour: lastFourOf(candidate.apiKey),
        endpoint: candidate.endpoint,
        deployment: candidate.deployment,
        ...testedColumns(result),
        version: locked.version + 1,
      };
      // The version condition makes a lost update impossible even where row locks are not available.
      const updated = await manager.update(ProviderKey, { id: locked.id, version: locked.version }, changes);
      if (!updated.affected) throw conflict(locked.version + 1);
      await this.record(manager, viewer, { ...locked, ...changes } as ProviderKey, ProviderKeyAction.ROTATED);
      // Read back in the transaction: the version this rotation wrote, not a later one.
      return this.publicView(manager, viewer, input.provider);
    });
  }

  async remove(viewer: Viewer, provider: AiProvider): Promise<RemoveProviderKeyPayload> {
    const where = { accountId: viewer.accountId, provider };
    const params = [viewer.accountId, provider];
    const id = await inTransaction(this.deps.dataSource, async (manager) => {
      // Overwrite the key material in place before deleting the row, so no copy of it outlives the row.
      // The update also locks the row (on SQLite, write transactions run one at a time), so the audit row
      // and the id below are of the key this removes, whatever other requests do meanwhile.
      const overwritten = await manager.createQueryBuilder().update(ProviderKey).set(zeroedKeyMaterial(manager)).where(where).updateEntity(false).execute();
      if (!overwritten.affected) throw notFound(provider);
      await manager.query(
        `INSERT INTO provider_key_events (account_id, provider, action, actor_id, last_four, health)
         SELECT account_id, provider, ?, ?, last_four, NULL FROM provider_keys WHERE account_id = ? AND provider = ?`,
        [ProviderKeyAction.REMOVED, viewer.userId, ...params],
      );
      // MariaDB and SQLite name the deleted row in the same round trip; MySQL has no DELETE … RETURNING,
      // so there the locked row's id is read first.
      const deleteWhere = 'FROM provider_keys WHERE account_id = ? AND provider = ?';
      if (manager.connection.options.type === 'mysql') {
        const [row] = (await manager.query(`SELECT id ${deleteWhere}`, params)) as { id: string }[];
        await manager.query(`DELETE ${deleteWhere}`, params);
        return row.id;
      }
      const [row] = (await manager.query(`DELETE ${deleteWhere} RETURNING id`, params)) as { id: string }[];
      return row.id;
    });
    return { id, provider, billingMode: BillingMode.BUILT_IN };
  }

  async events(viewer: Viewer, first: number, after: string | null | undefined): Promise<ProviderKeyEventConnection> {
    if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) {
      throw badUserInput(`first must be between 1 and ${MAX_PAGE_SIZE}.`, 'first');
    }
    const before = after ? decodeCursor(after) : undefined;
    const repository = this.deps.dataSource.getRepository(ProviderKeyEvent);
    const [rows, hasPreviousPage] = await Promise.all([
      repository.find({
        where: { accountId: viewer.accountId, ...(before !== undefined ? { id: LessThan(before) } : {}) },
        order: { id: 'DESC' },
        take: first + 1,
      }),
      // Forward-only paging: the events newer than this page are the cursor's own and any after it.
      before !== undefined && repository.exists({ where: { accountId: viewer.accountId, id: MoreThanOrEqual(before) } }),
    ]);
    const page = rows.slice(0, first);
    const edges = page.map((event) => ({ cursor: encodeCursor(event.id), node: toProviderKeyEventType(event) }));
    return {
      edges,
      pageInfo: {
        hasNextPage: rows.length > first,
        endCursor: edges.at(-1)?.cursor ?? null,
        hasPreviousPage,
        startCursor: edges[0]?.cursor ?? null,
      },
    };
  }

  private find(manager: EntityManager, accountId: string, provider: AiProvider, forUpdate = false): Promise<ProviderKey | null> {
    const lockable = forUpdate && manager.connection.options.type !== 'better-sqlite3';
    return manager.findOne(ProviderKey, {
      where: { accountId, provider },
      ...(lockable ? { lock: { mode: 'pessimistic_write' as const } } : {}),
    });
  }

  private findPublic(manager: EntityManager, accountId: string, provider: AiProvider): Promise<PublicProviderKey | null> {
    return manager.findOne(ProviderKey, { select: [...PROVIDER_KEY_PUBLIC_COLUMNS], where: { accountId, provider } });
  }

  private async publicView(manager: EntityManager, viewer: Viewer, provider: AiProvider): Promise<ProviderKeyType> {
    const key = await this.findPublic(manager, viewer.accountId, provider);
    if (!key) throw notFound(provider);
    return toProviderKeyType(key, viewer.plan);
  }

  /**
   * Whether the new key equals the stored one. A stored key that cannot be decrypted (sealed under a
   * master key version the keyring lacks, or damaged) is exactly the key an admin must be able to replace,
   * so the comparison is skipped then, with a warning that says why (the error's fixed text, no key bytes).
   */
  private sameAsStored(stored: ProviderKey, apiKey: string): boolean {
    let storedKey: string;
    try {
      storedKey = openKey(stored, bindingOf(stored), this.deps.keyring);
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

  private seal(apiKey: string, key: Pick<ProviderKey, 'accountId' | 'provider' | 'id'>): SealedKey {
    return sealKey(apiKey, bindingOf(key), this.deps.keyring);
  }

  private exists(provider: AiProvider): AppError {
    return new AppError(ErrorCode.PROVIDER_KEY_EXISTS, `A key for ${MODEL_CATALOG[provider].displayName} is already stored: rotate it to replace it.`, { provider });
  }

  /** Runs the connection test for a key about to be saved; a key that fails it is not saved. */
  private async verify(viewer: Viewer, candidate: KeyCandidate): Promise<ConnectionTestResult> {
    await this.consumeTest(viewer);
    const result = await this.deps.tester.test(candidate);
    if (!result.ok) throw rejected(result);
    return result;
  }

  private async consumeTest(viewer: Viewer): Promise<void> {
    try {
      await this.deps.testLimiter.consume(viewer.accountId);
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw error;
      const retryAfterSeconds = Math.max(1, Math.ceil(error.msBeforeNext / 1000));
      throw new AppError(
        ErrorCode.RATE_LIMITED,
        `Too many connection tests for this account: at most ${this.deps.testLimiter.points} a minute. Try again in ${retryAfterSeconds} s.`,
        { retryAfterSeconds },
      );
    }
  }

  private async record(manager: EntityManager, viewer: Viewer, key: ProviderKey, action: ProviderKeyAction, health?: KeyHealth) {
    await insertOnly(manager, ProviderKeyEvent, {
      accountId: viewer.accountId,
      provider: key.provider,
      action,
      actorId: viewer.userId,
      lastFour: key.lastFour,
      health: health ?? key.health,
    });
  }
}

/** Fixed-length digests, so comparing two keys takes the same time whatever they share. */
function digest(value: string): Buffer {
  return crypto.createHash('sha256').update(value, 'utf8').digest();
}
