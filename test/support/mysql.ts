import crypto from 'node:crypto';
import { createConnection } from 'mysql2/promise';

// The MySQL/MariaDB the suite runs against: TEST_DATABASE_URL (server only, no database), default root on loopback.

export const MYSQL_SERVER_URL = (process.env.TEST_DATABASE_URL ?? 'mysql://root@127.0.0.1:3306').replace(
  /\/+$/,
  '',
);

export const MYSQL_HINT =
  'start it with `start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd` (or set TEST_DATABASE_URL)';

/** A fresh, unique database URL; the database itself is created by the service on start. */
export function freshMysqlUrl(): string {
  return `${MYSQL_SERVER_URL}/byok_test_${crypto.randomBytes(5).toString('hex')}`;
}

export async function dropMysqlDatabase(url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  const connection = await createConnection({ uri: MYSQL_SERVER_URL });
  try {
    await connection.query(`DROP DATABASE IF EXISTS \`${name}\``);
  } finally {
    await connection.end();
  }
}
