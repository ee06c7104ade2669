import { DataSource, EntityManager } from 'typeorm';

// Which SQL the database speaks. The few statements that differ (row locks, RETURNING, zeroing a blob,
// server-side prepared statements) ask here, in one way, rather than each checking the driver.

export type Dialect = 'sqlite' | 'mysql' | 'mariadb';

export function dialectOf(source: DataSource | EntityManager): Dialect {
  const { type } = (source instanceof EntityManager ? source.connection : source).options;
  if (type === 'better-sqlite3') return 'sqlite';
  return type === 'mariadb' ? 'mariadb' : 'mysql';
}
