import { Pool, PoolConnection, ResultSetHeader } from 'mysql2';
import { DataSource, EntityManager } from 'typeorm';
import { MysqlDriver } from 'typeorm/driver/mysql/MysqlDriver';
import { MysqlQueryRunner } from 'typeorm/driver/mysql/MysqlQueryRunner';

export type Row = Record<string, unknown>;

/**
 * A read on the hot path (every request's membership, every resolve): on MySQL/MariaDB a server-side
 * prepared statement on TypeORM's own pool (mysql2 keeps it per connection), so nothing is escaped or
 * parsed again on either side; on SQLite, TypeORM's query. Rows come back as the driver gives them.
 */
export function selectPrepared(dataSource: DataSource, sql: string, parameters: string[]): Promise<Row[]> {
  const pool = (dataSource.driver as MysqlDriver).pool as Pool | undefined;
  if (!pool) return dataSource.query(sql, parameters);
  return new Promise((resolve, reject) =>
    pool.execute(sql, parameters, (error, rows) => (error ? reject(error) : resolve(rows as Row[]))),
  );
}

/**
 * A write inside a transaction as a server-side prepared statement on MySQL/MariaDB (on the
 * transaction's own connection): large batches of binary values go as they are, neither escaped into
 * the text nor parsed back by the server. The rows it matched; on SQLite, TypeORM's query.
 */
export async function writePrepared(
  manager: EntityManager,
  sql: string,
  parameters: (string | number | Buffer)[],
): Promise<number> {
  const runner = manager.queryRunner!;
  if (!(runner instanceof MysqlQueryRunner)) return (await runner.query(sql, parameters, true)).affected ?? 0;
  const connection = (await runner.connect()) as PoolConnection;
  return new Promise((resolve, reject) =>
    connection.execute(sql, parameters, (error, result) =>
      error ? reject(error) : resolve((result as ResultSetHeader).affectedRows),
    ),
  );
}
