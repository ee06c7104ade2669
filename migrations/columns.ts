import { QueryRunner, TableColumnOptions } from 'typeorm';

// Column shapes shared by the migrations. The same migrations run on MySQL/MariaDB and SQLite;
// only the timestamp defaults differ, and they must equal what TypeORM derives from the entities.

const isMysql = (queryRunner: QueryRunner) => queryRunner.connection.driver.options.type !== 'better-sqlite3';

export const id = (name: string, length = 64): TableColumnOptions => ({
  name,
  type: 'varchar',
  length: String(length),
});

export function timestamp(queryRunner: QueryRunner, name: string, onUpdate = false): TableColumnOptions {
  return isMysql(queryRunner)
    ? {
        name,
        type: 'datetime',
        precision: 6,
        default: 'CURRENT_TIMESTAMP(6)',
        ...(onUpdate ? { onUpdate: 'CURRENT_TIMESTAMP(6)' } : {}),
      }
    : { name, type: 'datetime', default: "datetime('now')" };
}

/** A boolean: MySQL's TINYINT(1), which is what TypeORM derives from `type: 'boolean', width: 1`. */
export function flag(queryRunner: QueryRunner, name: string): TableColumnOptions {
  return isMysql(queryRunner) ? { name, type: 'tinyint', width: 1 } : { name, type: 'boolean' };
}
