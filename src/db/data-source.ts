import { isIP } from 'node:net';
import path from 'node:path';
import { checkServerIdentity, TLSSocket } from 'node:tls';
import { createConnection } from 'mysql2/promise';
import { DataSource, DataSourceOptions } from 'typeorm';
import type { Pool, SslOptions } from 'mysql2';
import type { MysqlDriver } from 'typeorm/driver/mysql/MysqlDriver';
import { Config, ConfigError, DatabaseTls } from '../config';
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
    ssl: sslOptions(database.tls),
    charset: 'utf8mb4_unicode_ci',
    timezone: 'Z',
    poolSize: 10,
    extra: { enableKeepAlive: true, keepAliveInitialDelay: 10_000, connectTimeout: 5_000 },
  });
}

/** DATABASE_URL's ssl-mode as mysql2 takes it; undefined: no TLS. */
function sslOptions(tls: DatabaseTls | undefined): SslOptions | undefined {
  if (!tls) return undefined;
  if (tls.mode === 'REQUIRED') return { rejectUnauthorized: false };
  return { ca: tls.ca, rejectUnauthorized: true, verifyIdentity: tls.mode === 'VERIFY_IDENTITY' };
}

/**
 * mysql2 checks the host name only when DATABASE_URL names a host: given an IP address, Node compares the
 * certificate with "localhost" instead. So for VERIFY_IDENTITY to an IP address the check is made here,
 * on the connection's certificate, as the mysql client makes it (the certificate's IP addresses).
 */
function identityMismatch(database: Config['database'], stream: unknown): Error | undefined {
  if (database.type !== 'mysql' || database.tls?.mode !== 'VERIFY_IDENTITY' || database.socketPath)
    return undefined;
  const host = new URL(database.url).hostname.replace(/^\[|\]$/g, '');
  if (!isIP(host)) return undefined; // mysql2 checked it
  if (!(stream instanceof TLSSocket)) return new Error('TLS: the connection is not encrypted');
  return checkServerIdentity(host, stream.getPeerCertificate());
}

/** What TLS errors say, for one line at start-up (the rest of a failure keeps its own words). */
const TLS_FAILURE = /SSL|TLS|CERT|SIGNATURE|ALTNAME|HANDSHAKE|ISSUER|IP: .* is not in the cert's list/i;

/**
 * A server that cannot give the TLS DATABASE_URL asks for (no TLS at all, a certificate the CA did not
 * sign, another host name) stops start-up with one line naming the variable, as a configuration error.
 */
function tlsRefusal(tls: DatabaseTls, error: unknown): unknown {
  const { code, message } = error as { code?: string; message?: string };
  const text = `${code ?? ''} ${message ?? ''}`;
  if (!TLS_FAILURE.test(text)) return error;
  const why =
    code === 'HANDSHAKE_NO_SSL_SUPPORT'
      ? 'the server does not offer TLS'
      : `the server's certificate was refused (${code ?? message})`;
  return new ConfigError('DATABASE_URL', `ssl-mode=${tls.mode}: ${why}; nothing was connected`);
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
    ssl: sslOptions(database.tls),
    connectTimeout: 5_000,
  }).catch((error: unknown) => {
    throw database.tls ? tlsRefusal(database.tls, error) : error;
  });
  try {
    const core = (connection as unknown as { connection: { stream?: unknown } }).connection;
    const mismatch = identityMismatch(database, core.stream);
    if (mismatch) throw tlsRefusal(database.tls!, mismatch);
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
  if (database.type === 'mysql' && database.tls?.mode === 'VERIFY_IDENTITY') {
    // Every later connection of the pool is checked as the first one was: one the check refuses is closed.
    const pool = (dataSource.driver as MysqlDriver).pool as Pool;
    pool.on('connection', (connection) => {
      if (identityMismatch(database, (connection as { stream?: unknown }).stream)) connection.destroy();
    });
  }
  await dataSource.runMigrations({ transaction: 'each' });
  return dataSource;
}
