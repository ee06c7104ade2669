import { Pool } from 'mysql2';
import { DataSource } from 'typeorm';
import { MysqlDriver } from 'typeorm/driver/mysql/MysqlDriver';

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
