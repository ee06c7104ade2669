import path from 'node:path';
import { createConnection } from 'mysql2/promise';
import { DataSource, DataSourceOptions } from 'typeorm';
import { Config } from '../config';
import { ensurePrivateDir, ensurePrivateFile } from '../data-dir';

// The one DataSource. Migrations own the schema on both databases; `synchronize` stays off. Which
// entities and migrations there are is the composition root's list (app/database.ts): this folder
// knows no capability.

/** The tables: entity classes and the migrations that create them, in order. */
export interface DatabaseSchema {
  entities: NonNullable<DataSourceOptions['entities']>;
  migrations: NonNullable<DataSourceOptions['migrations']>;
}

/** MariaDB reports column defaults differently from MySQL; TypeORM needs to know which it talks to. */
export type MysqlFlavour = 'mysql' | 'mariadb';

export function createDataSource(
  database: Config['database'],
  schema: DatabaseSchema,
  flavour: MysqlFlavour = 'mysql',
): DataSource {
  const common = { ...schema, synchronize: false, logging: false } as const;
  if (database.type === 'sqlite') {
    return new DataSource({
      ...common,
      type: 'better-sqlite3',
      database: database.file,
      // Freed pages are zeroed: a removed or rotated key leaves no bytes behind in the file. (No WAL: its
      // log would keep old page images, key material included, until the next checkpoint.)
      prepareDatabase: (db: { pragma(source: string): unknown }) => {
        db.pragma('secure_delete = ON');
      },
    });
  }
  return new DataSource({
    ...common,
    type: flavour,
    connectorPackage: 'mysql2',
    url: database.url,
    socketPath: database.socketPath,
    charset: 'utf8mb4_unicode_ci',
    timezone: 'Z',
    poolSize: 10,
    extra: { enableKeepAlive: true, keepAliveInitialDelay: 10_000, connectTimeout: 5_000 },
  });
}

/**
 * Creates the MySQL database named in the URL when it is missing (and the user may), or the SQLite
 * folder, and tells which MySQL flavour answers.
 */
export async function ensureDatabase(database: Config['database']): Promise<MysqlFlavour> {
  if (database.type === 'sqlite') {
    ensurePrivateDir(path.dirname(database.file)); // it holds sealed keys
    ensurePrivateFile(database.file); // SQLite gives its journal the database file's mode
    return 'mysql';
  }
  const url = new URL(database.url);
  const name = decodeURIComponent(url.pathname.slice(1));
  url.pathname = '/';
  const connection = await createConnection({
    uri: url.toString(),
    socketPath: database.socketPath,
    connectTimeout: 5_000,
  });
  try {
    await connection.query(
      `CREATE DATABASE IF NOT EXISTS \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
    );
    const [rows] = await connection.query('SELECT VERSION() AS version');
    return /mariadb/i.test((rows as { version: string }[])[0].version) ? 'mariadb' : 'mysql';
  } finally {
    await connection.end();
  }
}

/** Connects, creating the database when needed, and applies pending migrations. */
export async function openDatabase(
  database: Config['database'],
  schema: DatabaseSchema,
): Promise<DataSource> {
  const dataSource = createDataSource(database, schema, await ensureDatabase(database));
  await dataSource.initialize();
  await dataSource.runMigrations({ transaction: 'each' });
  return dataSource;
}
