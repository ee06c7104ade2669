import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createConnection } from 'mysql2/promise';

// A throwaway mariadbd of the test's own: its own data folder, loopback port and socket, optionally with
// TLS. No grant tables (any user name gets in): the server only lives as long as the test file. The
// shared MariaDB at 3306 stays untouched.

export interface MariadbServer {
  port: number;
  /** The server's log, for a failure message. */
  log(): string;
  stop(): Promise<void>;
}

/** `mariadb-install-db` into a fresh folder (about 5 s); copy the folder to start more servers from it. */
export function installDataDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'byok-mariadb-'));
  const result = spawnSync(
    'mariadb-install-db',
    ['--no-defaults', `--datadir=${dir}/data`, '--auth-root-authentication-method=normal', '--skip-test-db'],
    { encoding: 'utf8', timeout: 60_000 },
  );
  if (result.status !== 0)
    throw new Error(`mariadb-install-db failed: ${result.error?.message ?? ''}\n${result.stderr}`);
  return path.join(dir, 'data');
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function startMariadb(
  dataDir: string,
  tls?: { cert: string; key: string; ca: string },
): Promise<MariadbServer> {
  const port = await freePort();
  const args = [
    '--no-defaults',
    `--datadir=${dataDir}`,
    `--port=${port}`,
    '--bind-address=127.0.0.1',
    `--socket=${dataDir}/mysqld.sock`,
    `--pid-file=${dataDir}/mysqld.pid`,
    '--skip-grant-tables',
    '--skip-log-bin',
    '--innodb-buffer-pool-size=16M',
    ...(process.getuid?.() === 0 ? ['--user=root'] : []),
    ...(tls ? [`--ssl-cert=${tls.cert}`, `--ssl-key=${tls.key}`, `--ssl-ca=${tls.ca}`] : []),
  ];
  const child: ChildProcess = spawn('mariadbd', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (chunk: Buffer) => (log += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  };
  // Ready once it answers a query: at most 100 tries, 200 ms apart.
  for (let attempt = 0; attempt < 100; attempt++) {
    if (child.exitCode !== null) break;
    try {
      const connection = await createConnection({ host: '127.0.0.1', port, user: 'root' });
      await connection.end();
      return { port, log: () => log, stop };
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  await stop();
  throw new Error(`mariadbd did not start:\n${log}`);
}
