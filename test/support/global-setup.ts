import { createConnection } from 'mysql2/promise';
import { MYSQL_HINT, MYSQL_SERVER_URL } from './mysql';

// The suite runs against MySQL/MariaDB as well as SQLite and never skips it: without the server it
// stops at once with one line that says how to start it.
export default async function globalSetup(): Promise<void> {
  try {
    const connection = await createConnection({ uri: MYSQL_SERVER_URL, connectTimeout: 3_000 });
    await connection.end();
  } catch (error) {
    process.stderr.write(
      `\nMySQL/MariaDB is not reachable at ${MYSQL_SERVER_URL} (${(error as Error).message}): ${MYSQL_HINT}\n`,
    );
    process.exit(1);
  }
}
