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

/** Text that may outgrow MySQL's 64 KiB TEXT (a key's model list, a change record): MEDIUMTEXT there. */
export function longText(queryRunner: QueryRunner, name: string): TableColumnOptions {
  return { name, type: isMysql(queryRunner) ? 'mediumtext' : 'text' };
}
