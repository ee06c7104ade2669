import { Pool } from 'mysql2';
import { DataSource } from 'typeorm';
import { MysqlDriver } from 'typeorm/driver/mysql/MysqlDriver';
import { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';
import { Plan, Role } from '../accounts/plan.enum';
import { PROVIDER_ORDER } from '../providers/ai-provider.enum';
import { PROVIDER_KEY_PUBLIC_COLUMNS, ProviderKey, PublicProviderKey } from '../provider-keys/provider-key.entity';

// The one query of an authenticated request: the user's role in the account, the account's plan, and
// the account's keys without their key material, in a single statement. The contract wants role and
// plan read on every request, and the screens behind it (key list, AI settings) show the keys, so one
// round trip serves both. Requests that ask in the same turn of the event loop share that round trip:
// their lookups go out together as one statement, sent after every one of those requests arrived, so
// each still reads the database as it is then (a demotion counts from the next request). Plain SQL
// built once per batch size, its key columns from the entity; key rows are hydrated by the driver as
// TypeORM would.

export interface MembershipWithKeys {
  role: Role;
  plan: Plan;
  /** In the contract's provider order. */
  keys: PublicProviderKey[];
}

/** Lookups read in one statement at most; each batch size is one prepared statement per connection. */
const MAX_BATCH = 16;

type Row = Record<string, unknown>;

interface Lookup {
  userId: string;
  accountId: string;
  resolve(membership: MembershipWithKeys | undefined): void;
  reject(error: unknown): void;
}

/**
 * On MySQL/MariaDB, a server-side prepared statement on TypeORM's own pool (mysql2 keeps it per
 * connection): nothing to escape or parse again on either side. On SQLite, TypeORM's query.
 */
function select(dataSource: DataSource, sql: string, parameters: string[]): Promise<Row[]> {
  const pool = (dataSource.driver as MysqlDriver).pool as Pool | undefined;
  if (!pool) return dataSource.query(sql, parameters);
  return new Promise((resolve, reject) => pool.execute(sql, parameters, (error, rows) => (error ? reject(error) : resolve(rows as Row[]))));
}

/**
 * Rows go back to their lookup by exact ids. MySQL's collation would also match `USER_ALICE` to
 * `user_alice`; such a near miss finds no row here, as on SQLite, and the request is not a member.
 */
const lookupKey = (userId: unknown, accountId: unknown) => JSON.stringify([userId, accountId]);

class MembershipReader {
  private readonly keyColumns: ColumnMetadata[];
  private readonly statements: string[] = [];
  private queue: Lookup[] = [];

  constructor(private readonly dataSource: DataSource) {
    const metadata = dataSource.getMetadata(ProviderKey);
    this.keyColumns = PROVIDER_KEY_PUBLIC_COLUMNS.map((name) => metadata.findColumnWithPropertyName(name)!);
  }

  read(userId: string, accountId: string): Promise<MembershipWithKeys | undefined> {
    return new Promise((resolve, reject) => {
      if (this.queue.push({ userId, accountId, resolve, reject }) === 1) setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    const queue = this.queue;
    this.queue = [];
    for (let start = 0; start < queue.length; start += MAX_BATCH) void this.run(queue.slice(start, start + MAX_BATCH));
  }

  private async run(batch: Lookup[]): Promise<void> {
    let rows: Row[];
    try {
      rows = await select(this.dataSource, this.statement(batch.length), batch.flatMap((lookup) => [lookup.userId, lookup.accountId]));
    } catch (error) {
      for (const lookup of batch) lookup.reject(error);
      return;
    }
    const found = new Map<string, Row[]>();
    for (const row of rows) {
      const key = lookupKey(row.member_user_id, row.member_account_id);
      const group = found.get(key);
      if (group) group.push(row);
      else found.set(key, [row]);
    }
    for (const lookup of batch) {
      const group = found.get(lookupKey(lookup.userId, lookup.accountId));
      lookup.resolve(group && this.membership(group));
    }
  }

  private membership(rows: Row[]): MembershipWithKeys {
    const keys = rows
      .filter((row) => row.id != null)
      .map((row) => {
        const key: Record<string, unknown> = {};
        for (const column of this.keyColumns) key[column.propertyName] = this.dataSource.driver.prepareHydratedValue(row[column.databaseName], column);
        return key as PublicProviderKey;
      })
      .sort((a, b) => PROVIDER_ORDER.indexOf(a.provider) - PROVIDER_ORDER.indexOf(b.provider));
    return { role: rows[0].role as Role, plan: rows[0].plan as Plan, keys };
  }

  private statement(size: number): string {
    return (this.statements[size] ??= [
      'SELECT m.user_id AS member_user_id, m.account_id AS member_account_id, m.role AS role, a.plan AS plan,',
      this.keyColumns.map((column) => `k.${column.databaseName}`).join(', '),
      'FROM memberships m INNER JOIN accounts a ON a.id = m.account_id',
      'LEFT JOIN provider_keys k ON k.account_id = m.account_id',
      `WHERE ${Array.from({ length: size }, () => '(m.user_id = ? AND m.account_id = ?)').join(' OR ')}`,
    ].join(' '));
  }
}

const readers = new WeakMap<DataSource, MembershipReader>();

/** The membership of the user in the account, or undefined when they are not a member. */
export function readMembership(dataSource: DataSource, userId: string, accountId: string): Promise<MembershipWithKeys | undefined> {
  let reader = readers.get(dataSource);
  if (!reader) readers.set(dataSource, (reader = new MembershipReader(dataSource)));
  return reader.read(userId, accountId);
}
