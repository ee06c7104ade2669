import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import crypto from 'node:crypto';
import { createConnection } from 'mysql2/promise';
import { Account } from '../src/accounts/account.entity';
import { Membership } from '../src/accounts/membership.entity';
import { Plan } from '../src/accounts/plan.enum';
import { Role } from '../src/accounts/role.enum';
import { openAppDatabase } from '../src/app/database';
import { sealKey } from '../src/crypto/envelope';
import { parseKeyring } from '../src/crypto/keyring';
import { AiProvider } from '../src/providers/ai-provider.enum';
import { KeyHealth } from '../src/providers/key-health.enum';
import { ProviderKey } from '../src/provider-keys/provider-key.entity';

// What the benchmarks share: child processes of the built service, CPU and memory read from /proc, the
// percentiles of a set of latencies, where the local MariaDB listens, and writing figures into the
// marked part of docs/benchmarks.md.

export const ROOT = path.resolve(__dirname, '../..');

/** autocannon hands its callbacks an untyped error. */
export const asError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)));

export const freePort = () =>
  new Promise<number>((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });

export function startChild(script: string, env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [path.join(ROOT, 'dist', script)], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

export function rssKiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) : NaN;
}

export const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));

/** CPU time, user and system, that a process has used so far, in ms; NaN without a process to read. */
export function cpuMs(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

export function percentiles(latencies: number[]): { p50: number; p99: number } {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;
  return { p50: at(0.5), p99: at(0.99) };
}

/** The Unix socket and the process of the MariaDB at SERVER_URL, when that server runs on this host. */
export async function localServer(serverUrl: string): Promise<{ socket?: string; pid?: number }> {
  const connection = await createConnection({ uri: serverUrl });
  try {
    const [rows] = await connection.query('SELECT @@socket AS socket, @@pid_file AS pidFile');
    const { socket, pidFile } = (rows as { socket: string | null; pidFile: string | null }[])[0];
    if (!socket || !fs.existsSync(socket) || !fs.statSync(socket).isSocket()) return {};
    const pid = pidFile && fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, 'utf8').trim()) : NaN;
    return { socket, pid: Number.isInteger(pid) && fs.existsSync(`/proc/${pid}/stat`) ? pid : undefined };
  } finally {
    await connection.end();
  }
}

/** Replaces the part of docs/benchmarks.md between `<!-- bench:<name>:start -->` and its end marker. */
export function writeFigures(name: string, text: string): void {
  const file = path.join(ROOT, 'docs/benchmarks.md');
  const [start, end] =
    name === ''
      ? ['<!-- bench:start -->', '<!-- bench:end -->']
      : [`<!-- bench:${name}:start -->`, `<!-- bench:${name}:end -->`];
  const previous = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  const marked =
    previous.includes(start) && previous.includes(end) ? previous : `${previous}\n${start}\n${end}\n`;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(
    file,
    `${marked.slice(0, marked.indexOf(start) + start.length)}\n${text}${marked.slice(marked.indexOf(end))}`,
  );
  process.stdout.write(`\nWritten to docs/benchmarks.md\n`);
}

/**
 * A fresh database of `count` GROWTH accounts (`acct_bench_<i>`, admin `user_bench_<i>`), each holding a
 * VALID OpenAI key sealed by the service's own code, in bulk inserts. The accounts, in order.
 */
export async function seedBenchDatabase(databaseUrl: string, masterKeys: string, count: number) {
  const dataSource = await openAppDatabase({ type: 'mysql', url: databaseUrl });
  try {
    const keyring = parseKeyring(masterKeys);
    const accounts = Array.from({ length: count }, (_, i) => ({
      id: `acct_bench_${i}`,
      name: `Bench ${i}`,
      plan: Plan.GROWTH,
    }));
    await dataSource.getRepository(Account).insert(accounts);
    await dataSource.getRepository(Membership).insert(
      accounts.map((account, i) => ({
        userId: `user_bench_${i}`,
        accountId: account.id,
        role: Role.ADMIN,
      })),
    );
    const keys = accounts.map((account) => {
      const id = crypto.randomUUID();
      const apiKey = `sk-proj-${crypto.randomBytes(48).toString('hex')}`;
      return {
        id,
        accountId: account.id,
        provider: AiProvider.OPENAI,
        lastFour: apiKey.slice(-4),
        label: 'bench',
        endpoint: null,
        deployment: null,
        health: KeyHealth.VALID,
        lastTestedAt: new Date(),
        lastTestMessage: 'OpenAI accepted this key.',
        version: 1,
        createdBy: 'user_bench_0',
        ...sealKey(apiKey, { accountId: account.id, provider: AiProvider.OPENAI, keyId: id }, keyring),
      };
    });
    for (let i = 0; i < keys.length; i += 200)
      await dataSource.getRepository(ProviderKey).insert(keys.slice(i, i + 200));
    return accounts;
  } finally {
    await dataSource.destroy();
  }
}
