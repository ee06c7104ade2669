import crypto from 'node:crypto';
import {
  DataSource,
  EntityManager,
  EntityTarget,
  In,
  LessThan,
  MoreThanOrEqual,
  ObjectLiteral,
} from 'typeorm';
import { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';
import { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import type { AccountPart, Row } from '../accounts/account-part';
import {
  KeyBinding,
  KeyDecryptionError,
  openKey,
  opensDataKey,
  rewrapKey,
  sealKey,
} from '../crypto/envelope';
import { Keyring } from '../crypto/keyring';
import { dialectOf } from '../db/dialect';
import { writePrepared } from '../db/prepared';
import { inTransaction } from '../db/transaction';
import { MASK } from '../graphql/masked-key.scalar';
import { PROVIDER_ADAPTERS } from '../providers/adapters';
import { AiProvider } from '../providers/ai-provider.enum';
import { ConnectionTestResult } from '../providers/connection-tester';
import { KeyHealth } from '../providers/key-health.enum';
import type { KeyCandidate } from '../providers/provider-adapter';
import {
  NO_ROUTE_GUARD,
  NO_WEBHOOKS,
  type PublishWebhook,
  type RouteGuard,
  type WebhookData,
  type WebhookEventType,
} from '../webhooks/webhook-events';
import { PROVIDER_KEY_PUBLIC_COLUMNS, ProviderKey, PublicProviderKey } from './provider-key.entity';
import type { MasterKeyCheck } from './master-key-check.entity';
import { ProviderKeyAction, ProviderKeyEvent } from './provider-key-event.entity';
import { ProviderKeyUsage } from './provider-key-usage.entity';

// Every read and write of stored keys and their audit trail, and the only place that seals or opens
// one. The SQL that differs between SQLite and MySQL/MariaDB is here too. A sealed key is bound to its
// row (account, provider, key id: bindingOf), so it opens only where it was stored. The rules of the
// product (who may, plans, conflicts, tests) are the service's; this module does what it is told and
// reports what it found. Each change is reported to the platform (webhooks) in its own transaction.

/** What the membership statement reads of an account for this capability: its keys, no key material. */
export interface AccountKeys {
  /** In the providers' order (adapters.ts). */
  keys: readonly PublicProviderKey[];
}

/** The keys of an account as routing reads them for a resolve. */
export interface RoutingKeys {
  keys: readonly ServableKey[];
}

/** A stored key that can be opened: routing picks one and opens it, knowing nothing of the sealing. */
export interface ServableKey extends Pick<PublicProviderKey, (typeof ROUTING_COLUMNS)[number]> {
  /** The plaintext key: hold it only for the call it is for, never store or log it. Throws KeyDecryptionError. */
  open(): string;
}

/** What the admin gave besides the key itself, what the connection test found, and the monitor's next test. */
export type NewKeyDetails = Pick<ProviderKey, 'label' | 'createdBy' | 'expiresAt' | 'nextCheckAt'> &
  TestedColumns;

/** The columns a connection test leaves on a key. */
export type TestedColumns = Pick<ProviderKey, 'health' | 'lastTestedAt' | 'lastTestMessage'> &
  Partial<Pick<ProviderKey, 'availableModels'>>;

export type Replacement = Pick<ProviderKey, 'endpoint' | 'deployment' | 'expiresAt' | 'nextCheckAt'> &
  TestedColumns;

/** What updateProviderKey may change: never the key itself. */
export type KeyDetails = Partial<Pick<ProviderKey, 'label' | 'expiresAt'>>;

export type RotateOutcome =
  | { status: 'rotated'; key: PublicProviderKey }
  | { status: 'not-found' }
  | { status: 'conflict'; currentVersion: number };

/** The key a pipeline's report is about, as resolve handed it out. */
export interface ReportedKey {
  accountId: string;
  keyId: string;
  keyVersion: number;
}

/** stale: the key is gone or was rotated since (nothing done); counted: applies, no change; changed. */
export type ReportEffect = 'stale' | 'counted' | 'changed';

/** Counted uses of one key on one UTC day. */
export interface UsageDay {
  keyId: string;
  accountId: string;
  /** YYYY-MM-DD */
  day: string;
  resolves: number;
  failures: number;
}

/** A key the monitor claimed: what it tests it with, and the claim its result must still hold. */
export type ClaimedKey = Pick<
  ProviderKey,
  | (typeof ROUTING_COLUMNS)[number]
  | (typeof SEALED_COLUMNS)[number]
  | 'lastFour'
  | 'claimedBy'
  | 'lastTestedAt'
> & { claimedBy: string };

/** A key whose expiry reminder may be due: its expiry and the reminders already sent for it. */
export type ExpiringKey = Pick<
  ProviderKey,
  'id' | 'accountId' | 'provider' | 'lastFour' | 'health' | 'version' | 'expiryNotified'
> & { expiresAt: Date };

/** What routing's rule reads of an account's keys, and the last four of the one a webhook names. */
export type RouteKey = Pick<ProviderKey, (typeof ROUTING_COLUMNS)[number] | 'lastFour'>;

/** The audit and webhook actor of the key monitor (contract: "actor `monitor`"). */
export const MONITOR_ACTOR = 'monitor';

/** A stored key behind the current master key version, as the rewrap read it. */
export type RewrapCandidate = Pick<
  ProviderKey,
  'id' | 'accountId' | 'provider' | 'wrappedKey' | 'masterKeyVersion' | 'version'
>;

/** Keys re-wrapped by one UPDATE: a few hundred kilobytes of statement, well under any packet limit. */
const REWRAP_STATEMENT_ROWS = 1_000;

/** What routing reads of a key to decide whether it serves, and to hand it out. */
const ROUTING_COLUMNS = [
  'id',
  'accountId',
  'provider',
  'endpoint',
  'deployment',
  'health',
  'coolingDownUntil',
  'expiresAt',
  'availableModels',
  'version',
] as const satisfies readonly (keyof PublicProviderKey)[];

/** The key material, which only sealing and opening read. */
const SEALED_COLUMNS = [
  'ciphertext',
  'iv',
  'tag',
  'wrappedKey',
  'masterKeyVersion',
] as const satisfies readonly (keyof ProviderKey)[];

const bindingOf = (key: Pick<ProviderKey, 'accountId' | 'provider' | 'id'>): KeyBinding => ({
  accountId: key.accountId,
  provider: key.provider,
  keyId: key.id,
});

const DISPLAY_ORDER = PROVIDER_ADAPTERS.map((adapter) => adapter.provider);
const inDisplayOrder = <K extends { provider: AiProvider }>(keys: K[]): K[] =>
  keys.sort((a, b) => DISPLAY_ORDER.indexOf(a.provider) - DISPLAY_ORDER.indexOf(b.provider));

/**
 * What a connection test leaves on a key; an unverified save leaves it UNTESTED. The time is kept to
 * the second on both databases, as MySQL's datetime column holds it, so an answer shows what is stored.
 */
export function testedColumns(result: ConnectionTestResult | undefined): TestedColumns {
  if (!result) {
    return { health: KeyHealth.UNTESTED, lastTestedAt: null, lastTestMessage: null, availableModels: null };
  }
  const lastTestedAt = new Date(Math.floor(result.testedAt.getTime() / 1000) * 1000);
  const { health, message: lastTestMessage, listedModels } = result;
  // A test that read no model list leaves the models of the last one that did.
  return { health, lastTestedAt, lastTestMessage, ...(listedModels && { availableModels: listedModels }) };
}

/**
 * findOne options that lock the row for the transaction. SQLite runs one write transaction at a time
 * (db/transaction.ts) and has no row locks.
 */
const rowLock = (manager: EntityManager) =>
  dialectOf(manager) === 'sqlite' ? {} : { lock: { mode: 'pessimistic_write' as const } };

/** The monitor's keys: those of accounts on `plans` (a subquery on the accounts' primary key). */
const ON_PLANS = 'k.accountId IN (SELECT a.id FROM accounts a WHERE a.plan IN (:...plans))';

/** A passing test puts a key back into routing: any cooldown ends with it. */
const passedColumns = (columns: TestedColumns): Partial<ProviderKey> =>
  columns.health === KeyHealth.VALID
    ? { coolingDownUntil: null, transientFailures: 0, transientSince: null }
    : {};

/**
 * An INSERT and nothing else: `manager.insert` reads each row back on MySQL to fill in its defaults,
 * one more round trip inside the transaction for values nobody reads.
 */
async function insertOnly<T extends ObjectLiteral>(
  manager: EntityManager,
  target: EntityTarget<T>,
  values: QueryDeepPartialEntity<T>,
): Promise<void> {
  await manager.createQueryBuilder().insert().into(target).values(values).updateEntity(false).execute();
}

/** A webhook's data about one key: what it is now and was before, never key material beyond the mask. */
function keyEvent(
  key: Pick<ProviderKey, 'accountId' | 'provider' | 'id' | 'lastFour' | 'version'>,
  health: KeyHealth | null,
  previousHealth: KeyHealth | null,
  actorId: string,
): WebhookData {
  const { accountId, provider, id: keyId, lastFour, version } = key;
  return { accountId, provider, keyId, maskedKey: MASK + lastFour, health, previousHealth, actorId, version };
}

function isUniqueViolation(error: unknown): boolean {
  const code = (error as { driverError?: { code?: string } }).driverError?.code;
  return (
    code === 'ER_DUP_ENTRY' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
  );
}

export class ProviderKeyStore {
  /** Key columns as the membership statement selects them (`k_<column>`), and how to read them back. */
  readonly accountPart: AccountPart<AccountKeys>;
  /**
   * What the credential resolver reads of an account's keys, in the statement that reads the account
   * (one round trip per resolve, on every call): what routing decides on, and each key able to open itself.
   */
  readonly routingPart: AccountPart<RoutingKeys>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly keyring: Keyring,
    /** Records a webhook event in the transaction of the change it reports. */
    private readonly publish: PublishWebhook = NO_WEBHOOKS,
    /** Tells the platform when a change leaves the account's AI tasks without a route. */
    private readonly guardRoute: RouteGuard = NO_ROUTE_GUARD,
  ) {
    const metadata = dataSource.getMetadata(ProviderKey);
    const column = (name: keyof ProviderKey) => metadata.findColumnWithPropertyName(name)!;
    const publicColumns = PROVIDER_KEY_PUBLIC_COLUMNS.map(column);
    // Every statement below names its columns `k_<column>`, and these read them back as TypeORM would.
    // (The aliases are made once: a resolve hydrates a row on every call.)
    const hydrator = (columns: ColumnMetadata[]) => {
      const aliased = columns.map((meta) => [meta, `k_${meta.databaseName}`] as const);
      return (row: Row): unknown => {
        const key: Record<string, unknown> = {};
        for (const [meta, alias] of aliased)
          key[meta.propertyName] = dataSource.driver.prepareHydratedValue(row[alias], meta);
        return key;
      };
    };
    const select = (columns: ColumnMetadata[]) =>
      columns.map(({ databaseName }) => `k.${databaseName} AS k_${databaseName}`).join(', ');
    const hydratePublic = hydrator(publicColumns);
    this.accountPart = {
      join: 'LEFT JOIN provider_keys k ON k.account_id = a.id',
      columns: [select(publicColumns)],
      read: (rows) => ({
        keys: inDisplayOrder(
          rows.filter((row) => row.k_id != null).map((row) => hydratePublic(row) as PublicProviderKey),
        ),
      }),
    };
    // For routing: what routing decides on and the key material, in one prepared statement by account
    // (a resolve reads it on every call: the fewer columns, the less both sides work).
    const routingColumns = [...ROUTING_COLUMNS, ...SEALED_COLUMNS].map(column);
    const hydrateRouting = hydrator(routingColumns);
    this.routingPart = {
      join: 'LEFT JOIN provider_keys k ON k.account_id = a.id',
      columns: [select(routingColumns)],
      read: (rows) => ({
        keys: inDisplayOrder(
          rows
            .filter((row) => row.k_id != null)
            .map((row) => {
              // The key as routing reads it: what it decides on, and what opens it.
              const key = hydrateRouting(row) as ProviderKey;
              return Object.assign(key, { open: () => this.open(key) });
            }),
        ),
      }),
    };
  }

  // ---- reads ---------------------------------------------------------------------------------------

  /** The stored key with its key material, for opening it; null when none is stored. */
  find(accountId: string, provider: AiProvider): Promise<ProviderKey | null> {
    return this.dataSource.manager.findOne(ProviderKey, { where: { accountId, provider } });
  }

  findPublic(
    accountId: string,
    provider: AiProvider,
    manager = this.dataSource.manager,
  ): Promise<PublicProviderKey | null> {
    return manager.findOne(ProviderKey, {
      select: [...PROVIDER_KEY_PUBLIC_COLUMNS],
      where: { accountId, provider },
    });
  }

  /** The account's keys as routing's rule reads them, in `manager`'s transaction (the route guard). */
  routeKeys(manager: EntityManager, accountId: string): Promise<RouteKey[]> {
    return manager.find(ProviderKey, { select: [...ROUTING_COLUMNS, 'lastFour'], where: { accountId } });
  }

  /** The plaintext of a stored key. Throws KeyDecryptionError when it cannot be opened. */
  open(key: Pick<ProviderKey, (typeof SEALED_COLUMNS)[number] | 'accountId' | 'provider' | 'id'>): string {
    return openKey(key, bindingOf(key), this.keyring);
  }

  /**
   * Whether `apiKey` is the key stored in `key`, compared in constant time; the decryption error when the
   * stored key cannot be opened (a caller replacing it may go on without the comparison).
   */
  holds(key: ProviderKey, apiKey: string): boolean | KeyDecryptionError {
    let stored: string;
    try {
      stored = this.open(key);
    } catch (error) {
      if (error instanceof KeyDecryptionError) return error;
      throw error;
    }
    // Fixed-length digests, so comparing two keys takes the same time whatever they share.
    const digest = (value: string) => crypto.createHash('sha256').update(value, 'utf8').digest();
    return crypto.timingSafeEqual(digest(apiKey), digest(stored));
  }

  /** A page of the audit trail, newest first, before an event id; and whether newer events exist. */
  async events(
    accountId: string,
    take: number,
    beforeId: number | undefined,
  ): Promise<{ rows: ProviderKeyEvent[]; hasNewer: boolean }> {
    const repository = this.dataSource.getRepository(ProviderKeyEvent);
    const [rows, hasNewer] = await Promise.all([
      repository.find({
        where: { accountId, ...(beforeId !== undefined ? { id: LessThan(beforeId) } : {}) },
        order: { id: 'DESC' },
        take,
      }),
      beforeId !== undefined && repository.exists({ where: { accountId, id: MoreThanOrEqual(beforeId) } }),
    ]);
    return { rows, hasNewer };
  }

  // ---- writes: each in one transaction with its audit row --------------------------------------------

  /** Seals and stores a new key with its ADDED event; 'exists' when the account has one for the provider. */
  async add(
    accountId: string,
    candidate: KeyCandidate,
    details: NewKeyDetails,
  ): Promise<PublicProviderKey | 'exists'> {
    const { provider, endpoint, deployment, apiKey } = candidate;
    const now = new Date(); // set here, not by the database: the answer needs no read-back
    const key = Object.assign(new ProviderKey(), {
      ...details,
      accountId,
      provider,
      endpoint,
      deployment,
      id: crypto.randomUUID(),
      lastFour: apiKey.slice(-4),
      version: 1,
      createdAt: now,
      updatedAt: now,
    });
    Object.assign(key, sealKey(apiKey, bindingOf(key), this.keyring));
    try {
      await inTransaction(this.dataSource, async (manager) => {
        await insertOnly(manager, ProviderKey, key);
        await this.record(manager, key, ProviderKeyAction.ADDED, details.createdBy);
        await this.publish(manager, 'provider_key.added', keyEvent(key, key.health, null, details.createdBy));
      });
    } catch (error) {
      if (isUniqueViolation(error)) return 'exists';
      throw error;
    }
    const { ciphertext: _c, iv: _i, tag: _t, wrappedKey: _w, masterKeyVersion: _m, ...stored } = key;
    return stored;
  }

  /**
   * Records a connection test of the stored key with its TESTED event, only if the key tested is still
   * the stored one (a rotation may have landed meanwhile). The key as stored afterwards: as tested, or
   * as it is now when the result was not recorded (null: removed meanwhile).
   */
  async recordTest(
    tested: PublicProviderKey,
    columns: TestedColumns,
    actorId: string,
  ): Promise<PublicProviderKey | null> {
    const changes = { ...columns, ...passedColumns(columns), updatedAt: new Date() }; // no read-back
    return inTransaction(this.dataSource, (manager) =>
      this.guardRoute(manager, tested.accountId, actorId, async () => {
        const where = { id: tested.id, accountId: tested.accountId, version: tested.version };
        const previous = await this.lockedHealth(manager, where);
        if (previous === undefined) return this.findPublic(tested.accountId, tested.provider, manager);
        await manager.update(ProviderKey, where, changes);
        await this.record(manager, tested, ProviderKeyAction.TESTED, actorId, columns.health);
        await this.publishHealthChange(manager, tested, columns.health, previous, actorId);
        return { ...tested, ...changes };
      }),
    );
  }

  /** The health of the row `where` names, locked for the transaction; undefined when there is none. */
  private async lockedHealth(
    manager: EntityManager,
    where: Pick<ProviderKey, 'id' | 'accountId' | 'version'> & { claimedBy?: string },
  ): Promise<KeyHealth | undefined> {
    const row = await manager.findOne(ProviderKey, {
      select: ['id', 'health'],
      where,
      ...rowLock(manager),
    });
    return row?.health;
  }

  /** provider_key.health_changed, when the health did change. */
  private async publishHealthChange(
    manager: EntityManager,
    key: Parameters<typeof keyEvent>[0],
    health: KeyHealth,
    previous: KeyHealth,
    actorId: string,
  ): Promise<void> {
    if (health === previous) return;
    await this.publish(manager, 'provider_key.health_changed', keyEvent(key, health, previous, actorId));
  }

  /**
   * Changes the label or expiry of the stored key with its UPDATED event; the key as stored afterwards,
   * or null when none is stored.
   */
  async update(
    accountId: string,
    provider: AiProvider,
    details: KeyDetails,
    actorId: string,
  ): Promise<PublicProviderKey | null> {
    return inTransaction(this.dataSource, async (manager) => {
      // A new expiry gets its own reminders.
      const changes = details.expiresAt !== undefined ? { ...details, expiryNotified: 0 } : details;
      const updated = await manager.update(ProviderKey, { accountId, provider }, changes);
      if (!updated.affected) return null;
      const key = await this.findPublic(accountId, provider, manager);
      if (key) await this.record(manager, key, ProviderKeyAction.UPDATED, actorId);
      return key;
    });
  }

  /**
   * Replaces the stored key `expected.id` with `apiKey`, version + 1, with its ROTATED event. Conflict
   * when its version is no longer `expectedVersion` (when given); not-found when it was removed or replaced.
   */
  async rotate(
    expected: Pick<ProviderKey, 'id' | 'accountId' | 'provider'>,
    expectedVersion: number | null | undefined,
    apiKey: string,
    replacement: Replacement,
    actorId: string,
  ): Promise<RotateOutcome> {
    const sealed = sealKey(apiKey, bindingOf(expected), this.keyring);
    return inTransaction(this.dataSource, async (manager) => {
      const locked = await manager.findOne(ProviderKey, {
        where: { accountId: expected.accountId, provider: expected.provider },
        ...rowLock(manager),
      });
      if (!locked || locked.id !== expected.id) return { status: 'not-found' };
      if (expectedVersion != null && expectedVersion !== locked.version)
        return { status: 'conflict', currentVersion: locked.version };
      const changes: Partial<ProviderKey> = {
        ...sealed,
        ...replacement,
        lastFour: apiKey.slice(-4),
        version: locked.version + 1,
        // A new key: its own expiry reminders and monitor schedule; a claim on the old one is void.
        expiryNotified: 0,
        claimedBy: null,
      };
      // The version condition makes a lost update impossible even where row locks are not available.
      const updated = await manager.update(ProviderKey, { id: locked.id, version: locked.version }, changes);
      if (!updated.affected) return { status: 'conflict', currentVersion: locked.version + 1 };
      const rotated = { ...locked, ...changes };
      await this.record(manager, rotated, ProviderKeyAction.ROTATED, actorId);
      const event = keyEvent(rotated, rotated.health, locked.health, actorId);
      await this.publish(manager, 'provider_key.rotated', event);
      // Read back in the transaction: the version this rotation wrote, not a later one.
      const key = await this.findPublic(locked.accountId, locked.provider, manager);
      return key ? { status: 'rotated', key } : { status: 'not-found' };
    });
  }

  /**
   * Removes the key with its REMOVED event; its id, or undefined when none is stored. The key material
   * is overwritten in place with zeros as long as itself before the row is deleted, so no copy of it
   * outlives the row in the table (what logs and backups keep: README, "What a removal leaves behind").
   */
  async remove(accountId: string, provider: AiProvider, actorId: string): Promise<string | undefined> {
    return inTransaction(this.dataSource, (manager) =>
      this.guardRoute(manager, accountId, actorId, () =>
        this.removeIn(manager, accountId, provider, actorId),
      ),
    );
  }

  private async removeIn(
    manager: EntityManager,
    accountId: string,
    provider: AiProvider,
    actorId: string,
  ): Promise<string | undefined> {
    const params = [accountId, provider];
    const dialect = dialectOf(manager);
    const zeros = (column: string) => () =>
      dialect === 'sqlite' ? `zeroblob(length(${column}))` : `REPEAT(X'00', LENGTH(${column}))`;
    // The update also locks the row (SQLite: write transactions run one at a time), so the audit row
    // and the id below are of the key this removes, whatever other requests do meanwhile.
    const overwritten = await manager
      .createQueryBuilder()
      .update(ProviderKey)
      .set({
        ciphertext: zeros('ciphertext'),
        iv: zeros('iv'),
        tag: zeros('auth_tag'),
        wrappedKey: zeros('wrapped_key'),
      })
      .where({ accountId, provider })
      .updateEntity(false)
      .execute();
    if (!overwritten.affected) return undefined;
    await manager.query(
      `INSERT INTO provider_key_events (account_id, provider, action, actor_id, last_four, health)
       SELECT account_id, provider, ?, ?, last_four, NULL FROM provider_keys WHERE account_id = ? AND provider = ?`,
      [ProviderKeyAction.REMOVED, actorId, ...params],
    );
    // MariaDB runs a DELETE … IN (subquery) as a scan of provider_key_usage; the join form seeks by key.
    await manager.query(
      dialect === 'sqlite'
        ? 'DELETE FROM provider_key_usage WHERE key_id IN (SELECT id FROM provider_keys WHERE account_id = ? AND provider = ?)'
        : 'DELETE u FROM provider_keys k JOIN provider_key_usage u ON u.key_id = k.id WHERE k.account_id = ? AND k.provider = ?',
      params,
    );
    // MariaDB and SQLite name the deleted row in the same round trip; MySQL has no DELETE … RETURNING.
    const where = 'FROM provider_keys WHERE account_id = ? AND provider = ?';
    const columns = 'id, last_four, health, version';
    type Removed = { id: string; last_four: string; health: KeyHealth; version: number };
    let row: Removed;
    if (dialect === 'mysql') {
      [row] = await manager.query<Removed[]>(`SELECT ${columns} ${where}`, params);
      await manager.query(`DELETE ${where}`, params);
    } else {
      [row] = await manager.query<Removed[]>(`DELETE ${where} RETURNING ${columns}`, params);
    }
    const removed = { ...row, accountId, provider, lastFour: row.last_four };
    await this.publish(manager, 'provider_key.removed', keyEvent(removed, null, row.health, actorId));
    return row.id;
  }

  private async record(
    manager: EntityManager,
    key: Pick<ProviderKey, 'accountId' | 'provider' | 'lastFour' | 'health'>,
    action: ProviderKeyAction,
    actorId: string,
    health = key.health,
    previousHealth: KeyHealth | null = null,
  ): Promise<void> {
    await insertOnly(manager, ProviderKeyEvent, {
      accountId: key.accountId,
      provider: key.provider,
      action,
      actorId,
      lastFour: key.lastFour,
      health,
      previousHealth,
    });
  }

  // ---- what pipelines report and use (the internal credential API) --------------------------------

  /**
   * A hard failure a pipeline met with the key at `keyVersion`: the health becomes `health` (with our
   * message for it) and a HEALTH_CHANGED event is written, unless the key is gone, was rotated since
   * (a late report must never mark the new key) or already has that health.
   */
  async reportHealth(
    key: ReportedKey,
    health: KeyHealth,
    messageFor: (provider: AiProvider) => string,
    actorId: string,
  ): Promise<ReportEffect> {
    return inTransaction(this.dataSource, (manager) =>
      this.guardRoute(manager, key.accountId, actorId, async () => {
        const row = await manager.findOne(ProviderKey, {
          select: ['id', 'accountId', 'provider', 'lastFour', 'health', 'version'],
          where: { id: key.keyId, accountId: key.accountId, version: key.keyVersion },
          ...rowLock(manager),
        });
        if (!row) return 'stale';
        if (row.health === health) return 'counted';
        const changes = { health, lastTestMessage: messageFor(row.provider), updatedAt: new Date() };
        await manager.update(ProviderKey, { id: row.id, version: row.version }, changes);
        await this.record(manager, row, ProviderKeyAction.HEALTH_CHANGED, actorId, health, row.health);
        await this.publishHealthChange(manager, row, health, row.health, actorId);
        return 'changed';
      }),
    );
  }

  /**
   * A transient failure (rate limit, outage) a pipeline met with the key at `keyVersion`. The count of
   * such reports within `window` ms is kept in the row, so that every replica's reports add up in one
   * statement each; the `threshold`-th starts a cooldown until `coolingDownUntil`.
   */
  async reportTransient(
    key: ReportedKey,
    cooldown: { now: Date; windowMs: number; threshold: number; coolingDownUntil: Date },
  ): Promise<ReportEffect> {
    const where = 'id = :id AND account_id = :accountId AND version = :version';
    const params = { id: key.keyId, accountId: key.accountId, version: key.keyVersion };
    return inTransaction(this.dataSource, async (manager) => {
      const counted = await manager
        .createQueryBuilder()
        .update(ProviderKey)
        .set({
          transientFailures: () =>
            'CASE WHEN transient_since > :windowStart THEN transient_failures + 1 ELSE 1 END',
          transientSince: () => 'CASE WHEN transient_since > :windowStart THEN transient_since ELSE :now END',
        })
        .where(where, {
          ...params,
          windowStart: new Date(cooldown.now.getTime() - cooldown.windowMs),
          now: cooldown.now,
        })
        .updateEntity(false)
        .execute();
      if (!counted.affected) return 'stale';
      const cooled = await manager
        .createQueryBuilder()
        .update(ProviderKey)
        .set({ coolingDownUntil: cooldown.coolingDownUntil, transientFailures: 0, transientSince: null })
        .where(`${where} AND transient_failures >= :threshold`, { ...params, threshold: cooldown.threshold })
        .updateEntity(false)
        .execute();
      return cooled.affected ? 'changed' : 'counted';
    });
  }

  /**
   * Adds counted uses and failures to each key's day (an upsert that increments, so replicas add up) and
   * moves each key's lastUsedAt forward: three statements, whatever the number of keys.
   */
  async addUsage(days: readonly UsageDay[], lastUsed: ReadonlyMap<string, Date>): Promise<void> {
    const dialect = dialectOf(this.dataSource);
    await inTransaction(this.dataSource, async (manager) => {
      if (days.length) {
        const increment =
          dialect === 'sqlite'
            ? 'ON CONFLICT (key_id, day) DO UPDATE SET resolves = resolves + excluded.resolves, failures = failures + excluded.failures'
            : 'ON DUPLICATE KEY UPDATE resolves = resolves + VALUES(resolves), failures = failures + VALUES(failures)';
        await manager.query(
          `INSERT INTO provider_key_usage (key_id, day, account_id, resolves, failures) VALUES ${days.map(() => '(?, ?, ?, ?, ?)').join(', ')} ${increment}`,
          days.flatMap((day) => [day.keyId, day.day, day.accountId, day.resolves, day.failures]),
        );
      }
      // Counts of a key removed since they were taken are not kept: its usage went with it.
      const keyIds = [...new Set(days.map((day) => day.keyId))];
      if (keyIds.length) {
        const list = keyIds.map(() => '?').join(', ');
        await manager.query(
          `DELETE FROM provider_key_usage WHERE key_id IN (${list}) AND key_id NOT IN (SELECT id FROM provider_keys WHERE id IN (${list}))`,
          [...keyIds, ...keyIds],
        );
      }
      if (lastUsed.size) {
        const later = dialect === 'sqlite' ? 'MAX' : 'GREATEST';
        const entries = [...lastUsed];
        const cases = entries
          .map((_, i) => `WHEN :id${i} THEN ${later}(COALESCE(last_used_at, :at${i}), :at${i})`)
          .join(' ');
        const parameters: Record<string, unknown> = {};
        entries.forEach(([id, at], i) => Object.assign(parameters, { [`id${i}`]: id, [`at${i}`]: at }));
        const ids = entries.map(([id]) => id);
        await manager
          .createQueryBuilder()
          .update(ProviderKey)
          .set({ lastUsedAt: () => `CASE id ${cases} ELSE last_used_at END` })
          .where('id IN (:...ids)', { ...parameters, ids })
          .updateEntity(false)
          .execute();
      }
    });
  }

  /** The key's days with activity since `sinceDay` (YYYY-MM-DD), newest first. */
  usageOf(keyId: string, sinceDay: string): Promise<Pick<UsageDay, 'day' | 'resolves' | 'failures'>[]> {
    return this.dataSource.getRepository(ProviderKeyUsage).find({
      select: ['day', 'resolves', 'failures'],
      where: { keyId, day: MoreThanOrEqual(sinceDay) },
      order: { day: 'DESC' },
    });
  }

  // ---- the key monitor and expiry reminders (src/monitor/) -------------------------------------------

  /**
   * Claims up to `limit` keys due at `now` of accounts on `plans` for `claimant`, until `now + leaseMs`:
   * their next_check_at becomes the claim's expiry, so a claim whose replica died is due again then. On
   * MySQL/MariaDB the due rows are read FOR UPDATE SKIP LOCKED, so replicas claiming at once take
   * different keys; SQLite serves one process, whose write transactions run one at a time.
   */
  claimDue(
    now: Date,
    limit: number,
    leaseMs: number,
    claimant: string,
    plans: readonly string[],
  ): Promise<ClaimedKey[]> {
    return inTransaction(this.dataSource, async (manager) => {
      let due = manager
        .getRepository(ProviderKey)
        .createQueryBuilder('k')
        .select(
          [...ROUTING_COLUMNS, ...SEALED_COLUMNS, 'lastFour', 'lastTestedAt'].map((name) => `k.${name}`),
        )
        .where('(k.nextCheckAt IS NULL OR k.nextCheckAt <= :now)', { now })
        .andWhere(ON_PLANS, { plans })
        .orderBy('k.nextCheckAt', 'ASC')
        .limit(limit);
      if (dialectOf(manager) !== 'sqlite') due = due.setLock('pessimistic_write').setOnLocked('skip_locked');
      const rows = await due.getMany();
      if (rows.length === 0) return [];
      await manager
        .createQueryBuilder()
        .update(ProviderKey)
        .set({ claimedBy: claimant, nextCheckAt: new Date(now.getTime() + leaseMs) })
        .where({ id: In(rows.map((row) => row.id)) })
        .updateEntity(false)
        .execute();
      return rows.map((row) => ({ ...row, claimedBy: claimant }));
    });
  }

  /**
   * When the longest-overdue key of accounts on `plans` was due (a lapsed claim counts: it is due
   * again); undefined when none is. For the monitor's lag metric: one index range, read to its first row.
   */
  async oldestDue(now: Date, plans: readonly string[]): Promise<Date | undefined> {
    const key = await this.dataSource
      .getRepository(ProviderKey)
      .createQueryBuilder('k')
      .select(['k.id', 'k.nextCheckAt'])
      .where('k.nextCheckAt <= :now', { now })
      .andWhere(ON_PLANS, { plans })
      .orderBy('k.nextCheckAt', 'ASC')
      .limit(1)
      .getOne();
    return key?.nextCheckAt ?? undefined;
  }

  /**
   * A monitor test's result, if the claim still holds (the key was not rotated or removed, and no other
   * replica took it over): the tested columns, the next test, the claim cleared; a HEALTH_CHANGED event
   * and webhook only when the health changed. Whether it was recorded.
   */
  async recordMonitorTest(claimed: ClaimedKey, columns: TestedColumns, nextCheckAt: Date): Promise<boolean> {
    const { id, accountId, version, claimedBy } = claimed;
    return inTransaction(this.dataSource, (manager) =>
      this.guardRoute(manager, accountId, MONITOR_ACTOR, async () => {
        const where = { id, accountId, version, claimedBy };
        const previous = await this.lockedHealth(manager, where);
        if (previous === undefined) return false;
        const changes = { ...columns, ...passedColumns(columns), nextCheckAt, claimedBy: null };
        await manager.update(ProviderKey, where, changes);
        if (previous !== columns.health) {
          const action = ProviderKeyAction.HEALTH_CHANGED;
          await this.record(manager, claimed, action, MONITOR_ACTOR, columns.health, previous);
          await this.publishHealthChange(manager, claimed, columns.health, previous, MONITOR_ACTOR);
        }
        return true;
      }),
    );
  }

  /** Gives claimed keys back untested, due at `dueAt` (now: for whichever replica is next). */
  async releaseClaims(keys: readonly ClaimedKey[], dueAt: Date): Promise<void> {
    // In a transaction even so: on SQLite a bare write would run inside whichever transaction is open.
    await inTransaction(this.dataSource, async (manager) => {
      for (const { id, claimedBy } of keys)
        await manager.update(ProviderKey, { id, claimedBy }, { claimedBy: null, nextCheckAt: dueAt });
    });
  }

  /**
   * Up to `limit` keys with a reminder due: those within `stages[i]` of their expiry (a time bound per
   * stage, stage i + 1) with fewer than i + 1 reminders sent. One indexed range per stage.
   */
  dueExpiries(bounds: readonly Date[], limit: number): Promise<ExpiringKey[]> {
    const query = this.dataSource
      .getRepository(ProviderKey)
      .createQueryBuilder('k')
      .select(['k.id', 'k.accountId', 'k.provider', 'k.lastFour', 'k.health', 'k.version'])
      .addSelect(['k.expiresAt', 'k.expiryNotified']);
    bounds.forEach((bound, stage) => {
      const clause = `(k.expiryNotified < :stage${stage} AND k.expiresAt <= :bound${stage})`;
      const params = { [`stage${stage}`]: stage + 1, [`bound${stage}`]: bound };
      query.orWhere(clause, params);
    });
    return query.orderBy('k.expiresAt', 'ASC').limit(limit).getMany() as Promise<ExpiringKey[]>;
  }

  /**
   * Sends the reminder of `stage` for `key` (webhook `type` with `extra` fields), exactly once: only while
   * its expiry and the reminders sent are still as read. The expiry itself (`expired`) is judged against
   * routing just before it. Whether this call sent it.
   */
  async recordExpiryNotice(
    key: ExpiringKey,
    stage: number,
    type: WebhookEventType,
    extra: Record<string, string | number>,
    expired: boolean,
  ): Promise<boolean> {
    const { id, expiresAt, expiryNotified } = key;
    const justBefore = expired ? new Date(expiresAt.getTime() - 1) : undefined;
    return inTransaction(this.dataSource, (manager) =>
      this.guardRoute(
        manager,
        key.accountId,
        MONITOR_ACTOR,
        async () => {
          const updated = await manager
            .createQueryBuilder()
            .update(ProviderKey)
            .set({ expiryNotified: stage })
            .where({ id, expiresAt, expiryNotified })
            .updateEntity(false)
            .execute();
          if (!updated.affected) return false;
          const data = { ...keyEvent(key, key.health, null, MONITOR_ACTOR), ...extra };
          await this.publish(manager, type, data);
          return true;
        },
        justBefore,
      ),
    );
  }

  // ---- master key versions (keys:status, keys:rewrap, start-up and /readyz) ------------------------

  /** How many stored keys each master key version wraps. */
  async countByMasterKeyVersion(): Promise<Map<number, number>> {
    const rows = await this.dataSource
      .getRepository(ProviderKey)
      .createQueryBuilder('k')
      .select('k.masterKeyVersion', 'version')
      .addSelect('COUNT(*)', 'keys')
      .groupBy('k.masterKeyVersion')
      .getRawMany<{ version: number | string; keys: number | string }>();
    return new Map(rows.map((row) => [Number(row.version), Number(row.keys)]));
  }

  /**
   * What /readyz needs, in one statement (a load balancer asks every few seconds): the recorded check
   * value of each master key version (a row per version), and whether any stored key is under a version
   * other than `versions` (the keyring's). The latter is a derived table whose ranges (below the lowest,
   * between two, above the highest) are seeks of IDX_provider_keys_master_key_version that stop at the
   * first key found: it costs the same with a million stored keys as with ten.
   */
  async readiness(
    versions: readonly number[],
  ): Promise<{ checks: Pick<MasterKeyCheck, 'version' | 'checkValue'>[]; keysOutside: boolean }> {
    const sorted = [...versions].sort((a, b) => a - b);
    const ranges = [
      'master_key_version < ?',
      ...sorted.slice(1).map(() => '(master_key_version > ? AND master_key_version < ?)'),
      'master_key_version > ?',
    ];
    const parameters = [
      sorted[0],
      ...sorted.slice(1).flatMap((version, i) => [sorted[i], version]),
      sorted.at(-1),
    ];
    const rows = await this.dataSource.query<
      { version: number | string | null; check_value: string | null }[]
    >(
      `SELECT master_key_version AS version, check_value FROM master_key_checks
       UNION ALL
       SELECT NULL, NULL FROM (SELECT 1 AS found FROM provider_keys WHERE ${ranges.join(' OR ')} LIMIT 1) outside_keyring`,
      parameters,
    );
    return {
      checks: rows
        .filter((row) => row.version !== null)
        .map((row) => ({ version: Number(row.version), checkValue: String(row.check_value) })),
      keysOutside: rows.some((row) => row.version === null),
    };
  }

  /**
   * The master key versions stored keys are under, lowest first, without reading the keys: one seek of
   * IDX_provider_keys_master_key_version per version found, plus one that finds none. Stops after
   * `limit` versions: a keyring holds a handful, and more than that is already reason enough to refuse.
   */
  async storedMasterKeyVersions(limit = 100): Promise<number[]> {
    const versions: number[] = [];
    for (let after = Number.MIN_SAFE_INTEGER; versions.length < limit;) {
      const [row] = await this.dataSource.query<{ version: number | string }[]>(
        'SELECT master_key_version AS version FROM provider_keys WHERE master_key_version > ? ORDER BY master_key_version LIMIT 1',
        [after],
      );
      if (!row) break;
      after = Number(row.version);
      versions.push(after);
    }
    return versions;
  }

  /** Whether the keyring's key of `version` opens one of a few keys stored under it (none stored: true). */
  async opensStoredKeys(version: number, samples: number): Promise<boolean> {
    const keys = await this.dataSource.getRepository(ProviderKey).find({
      select: ['id', 'accountId', 'provider', 'wrappedKey', 'masterKeyVersion'],
      where: { masterKeyVersion: version },
      take: samples,
    });
    return keys.length === 0 || keys.some((key) => opensDataKey(key, bindingOf(key), this.keyring));
  }

  /** How many stored keys are behind the current master key version (keys:rewrap counts once, at its start). */
  countBehind(): Promise<number> {
    return this.dataSource
      .getRepository(ProviderKey)
      .countBy({ masterKeyVersion: LessThan(this.keyring.currentVersion) });
  }

  /**
   * Up to `batchSize` keys under master key version `version`, after `afterId` in id order: a range of
   * IDX_provider_keys_master_key_version (master_key_version, id), so each batch costs the same wherever
   * it is in the table and a run resumed after a kill starts where the keys behind are.
   */
  readRewrapBatch(version: number, afterId: string, batchSize: number): Promise<RewrapCandidate[]> {
    return this.dataSource
      .getRepository(ProviderKey)
      .createQueryBuilder('k')
      .select(['k.id', 'k.accountId', 'k.provider', 'k.wrappedKey', 'k.masterKeyVersion', 'k.version'])
      .where('k.masterKeyVersion = :version AND k.id > :afterId', { version, afterId })
      .orderBy('k.id', 'ASC')
      .take(batchSize)
      .getMany();
  }

  /**
   * Stores each candidate's data key re-wrapped under the current version, but only where the row is
   * still exactly as read. A rotation meanwhile seals a new data key beside a new ciphertext, and may
   * keep the old master key version (a replica that does not know the new one yet): the re-wrap of the
   * old data key would then sit beside a ciphertext it cannot open, and the key would be lost. So the
   * condition is the key's version (every rotation bumps it) and the wrapped key itself; such a row is
   * skipped and a later pass moves it. One UPDATE joined to the batch's rows per REWRAP_STATEMENT_ROWS
   * keys, in one transaction; updated_at is kept (the key as its admin sees it did not change).
   */
  async writeRewrapBatch(batch: readonly RewrapCandidate[]): Promise<{ rewrapped: number; skipped: number }> {
    const dialect = dialectOf(this.dataSource);
    const target = this.keyring.currentVersion;
    const rows = batch.map((key) => ({ key, rewrapped: rewrapKey(key, bindingOf(key), this.keyring) }));
    const rewrapped = await inTransaction(this.dataSource, async (manager) => {
      let affected = 0;
      for (let start = 0; start < rows.length; start += REWRAP_STATEMENT_ROWS) {
        const chunk = rows.slice(start, start + REWRAP_STATEMENT_ROWS);
        const values = chunk.flatMap(({ key, rewrapped }) => [
          key.id,
          key.version,
          key.masterKeyVersion,
          key.wrappedKey,
          rewrapped.wrappedKey,
        ]);
        // The rows as read, joined by primary key: each is one seek, whatever the size of the table.
        const sql =
          dialect === 'sqlite'
            ? `UPDATE provider_keys SET wrapped_key = n.column5, master_key_version = ?
               FROM (VALUES ${chunk.map(() => '(?, ?, ?, ?, ?)').join(', ')}) AS n
               WHERE provider_keys.id = n.column1 AND provider_keys.version = n.column2
                 AND provider_keys.master_key_version = n.column3 AND provider_keys.wrapped_key = n.column4`
            : `UPDATE (${chunk
                .map((_, i) =>
                  i === 0
                    ? 'SELECT ? AS id, ? AS version, ? AS mkv, ? AS old_key, ? AS new_key'
                    : 'SELECT ?, ?, ?, ?, ?',
                )
                .join(' UNION ALL ')}) n STRAIGHT_JOIN provider_keys k
               ON k.id = n.id AND k.version = n.version AND k.master_key_version = n.mkv AND k.wrapped_key = n.old_key
               SET k.wrapped_key = n.new_key, k.master_key_version = ?, k.updated_at = k.updated_at`;
        const parameters = dialect === 'sqlite' ? [target, ...values] : [...values, target];
        affected += await writePrepared(manager, sql, parameters);
      }
      return affected;
    });
    return { rewrapped, skipped: batch.length - rewrapped };
  }
}
