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
// round trip serves both. Plain SQL built once per DataSource, its key columns from the entity; key rows
// are hydrated by the driver as TypeORM would, without rebuilding the statement on every call.

export interface MembershipWithKeys {
  role: Role;
  plan: Plan;
  /** In the contract's provider order. */
  keys: PublicProviderKey[];
}

interface Statement {
  sql: string;
  keyColumns: ColumnMetadata[];
}

const statements = new WeakMap<DataSource, Statement>();

function statementFor(dataSource: DataSource): Statement {
  let statement = statements.get(dataSource);
  if (!statement) {
    const metadata = dataSource.getMetadata(ProviderKey);
    const keyColumns = PROVIDER_KEY_PUBLIC_COLUMNS.map((name) => metadata.findColumnWithPropertyName(name)!);
    // provider_keys has no role or plan column, so the key columns keep their own names.
    const sql = [
      `SELECT m.role AS role, a.plan AS plan, ${keyColumns.map((column) => `k.${column.databaseName}`).join(', ')}`,
      'FROM memberships m INNER JOIN accounts a ON a.id = m.account_id',
      'LEFT JOIN provider_keys k ON k.account_id = m.account_id',
      'WHERE m.user_id = ? AND m.account_id = ?',
    ].join(' ');
    statement = { sql, keyColumns };
    statements.set(dataSource, statement);
  }
  return statement;
}

type Row = Record<string, unknown>;

/**
 * On MySQL/MariaDB, a server-side prepared statement on TypeORM's own pool (mysql2 keeps it per
 * connection): nothing to escape or parse again on either side. On SQLite, TypeORM's query.
 */
function select(dataSource: DataSource, sql: string, parameters: string[]): Promise<Row[]> {
  const pool = (dataSource.driver as MysqlDriver).pool as Pool | undefined;
  if (!pool) return dataSource.query(sql, parameters);
  return new Promise((resolve, reject) => pool.execute(sql, parameters, (error, rows) => (error ? reject(error) : resolve(rows as Row[]))));
}

/** The membership of the user in the account, or undefined when they are not a member. */
export async function readMembership(dataSource: DataSource, userId: string, accountId: string): Promise<MembershipWithKeys | undefined> {
  const { sql, keyColumns } = statementFor(dataSource);
  const rows = await select(dataSource, sql, [userId, accountId]);
  if (rows.length === 0) return undefined;
  const keys = rows
    .filter((row) => row.id != null)
    .map((row) => {
      const key: Record<string, unknown> = {};
      for (const column of keyColumns) key[column.propertyName] = dataSource.driver.prepareHydratedValue(row[column.databaseName], column);
      return key as PublicProviderKey;
    })
    .sort((a, b) => PROVIDER_ORDER.indexOf(a.provider) - PROVIDER_ORDER.indexOf(b.provider));
  return { role: rows[0].role as Role, plan: rows[0].plan as Plan, keys };
}
