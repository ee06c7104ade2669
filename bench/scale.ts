import 'reflect-metadata';
import { ChildProcess, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { Connection, createConnection } from 'mysql2/promise';
import { Agent, request } from 'undici';
import { openAppDatabase } from '../src/app/database';
import { signServiceToken, signToken } from '../src/auth/jwt';
import { loadConfig } from '../src/config';
import { openKey, sealKey } from '../src/crypto/envelope';
import { parseKeyring } from '../src/crypto/keyring';
import { AiProvider } from '../src/providers/ai-provider.enum';
import { KeyHealth } from '../src/providers/key-health.enum';
import {
  CLOCK_TICKS,
  cpuMs,
  freePort,
  localServer,
  percentiles,
  ROOT,
  startChild,
  writeFigures,
} from './harness';
import fs from 'node:fs';
import { explainHotStatements, Plan, printPlans } from './scale-explain';

// npm run bench:scale: the service on MariaDB with 10,000 and then 1,000,000 stored keys (real ones,
// sealed by the service's own envelope code, five per account, each account with its admin), seeded
// by multi-row INSERTs into a fresh database per size. At each size: /readyz, providerKeys and a resolve
// measured one request at a time over loopback (median and p99), then keys:rewrap to a new master key
// version (keys/s, as its CLI runs), and EXPLAIN of every hot statement. Prints the figures and writes
// them to docs/benchmarks.md; asserts nothing. Env: BENCH_DATABASE_URL (server, default
// mysql://root@127.0.0.1:3306), BENCH_SCALE_KEYS (sizes, default 10000,1000000),
// BENCH_SCALE_REQUESTS (measured requests per path and size, default 2000).

const SERVER_URL = (process.env.BENCH_DATABASE_URL ?? 'mysql://root@127.0.0.1:3306').replace(/\/+$/, '');
const SIZES = (process.env.BENCH_SCALE_KEYS ?? '10000,1000000').split(',').map(Number);
const REQUESTS = Number(process.env.BENCH_SCALE_REQUESTS ?? 2000);
const PROVIDERS = Object.values(AiProvider);
const SEED_ROWS = 1_000; // per INSERT statement
const WEBHOOK_ROWS = 100_000; // outbox rows beside the keys, so the claim's plan is read on a real table

for (const size of SIZES) {
  if (!Number.isInteger(size) || size < PROVIDERS.length || size > 10_000_000 || size % PROVIDERS.length)
    throw new Error(
      `BENCH_SCALE_KEYS: expected sizes that are multiples of 5 from 5 to 10000000, got ${size}`,
    );
}
if (!Number.isInteger(REQUESTS) || REQUESTS < 10 || REQUESTS > 100_000)
  throw new Error('BENCH_SCALE_REQUESTS: expected a whole number from 10 to 100000');

/** i (negative during the warm-up) onto 0 … n - 1. */
const cycle = (i: number, n: number) => ((i % n) + n) % n;
const account = (i: number) => `acct_scale_${String(i).padStart(7, '0')}`;

interface SizeFigures {
  keys: number;
  seedSeconds: number;
  sealPerSecond: number;
  readyz: { p50: number; p99: number };
  /** The floor under /readyz on this machine now: /healthz (HTTP, no database) and a bare SELECT 1. */
  healthz: { p50: number; p99: number };
  select1: { p50: number; p99: number };
  providerKeys: { p50: number; p99: number };
  resolve: { p50: number; p99: number };
  rewrap: {
    keys: number;
    seconds: number;
    perSecond: number;
    cliRate: string;
    /** CPU time per key re-wrapped, µs: of the CLI (its cryptography and driver) and of MariaDB. */
    cliCpuUs: number;
    databaseCpuUs: number;
  };
  plans: Plan[];
}

/** Rows in multi-row INSERTs, SEED_ROWS at a time, sealing the next chunk while the last one is written. */
async function seed(connection: Connection, keys: number, masterKeys: string) {
  const keyring = parseKeyring(masterKeys);
  const accounts = keys / PROVIDERS.length;
  const started = performance.now();
  let sealMs = 0;
  let writing: Promise<unknown> = Promise.resolve();
  const insert = async (sql: string, rows: unknown[][]) => {
    await writing;
    writing = connection.query(sql, [rows]);
  };
  for (let first = 0; first < accounts; first += SEED_ROWS / PROVIDERS.length) {
    const range = Array.from(
      { length: Math.min(SEED_ROWS / PROVIDERS.length, accounts - first) },
      (_, i) => first + i,
    );
    await insert(
      'INSERT INTO accounts (id, name, plan) VALUES ?',
      range.map((i) => [account(i), `Scale ${i}`, 'GROWTH']),
    );
    await insert(
      'INSERT INTO memberships (user_id, account_id, role) VALUES ?',
      range.map((i) => [`user_scale_${i}`, account(i), 'ADMIN']),
    );
    const sealing = performance.now();
    const rows = range.flatMap((i) =>
      PROVIDERS.map((provider, p) => {
        // Ids in insertion order keep the seeding's writes sequential; the rest is random, like randomUUID.
        const id = `${(i * PROVIDERS.length + p).toString(16).padStart(8, '0')}${crypto.randomUUID().slice(8)}`;
        const apiKey = `sk-scale-${crypto.randomBytes(24).toString('hex')}`;
        const sealed = sealKey(apiKey, { accountId: account(i), provider, keyId: id }, keyring);
        const azure = provider === AiProvider.AZURE_OPENAI;
        return [
          id,
          account(i),
          provider,
          sealed.ciphertext,
          sealed.iv,
          sealed.tag,
          sealed.wrappedKey,
          sealed.masterKeyVersion,
          apiKey.slice(-4),
          azure ? 'https://scale.openai.azure.com' : null,
          azure ? 'gpt-4o' : null,
          KeyHealth.VALID,
          1,
          'user_scale',
        ];
      }),
    );
    sealMs += performance.now() - sealing;
    await insert(
      'INSERT INTO provider_keys (id, account_id, provider, ciphertext, iv, auth_tag, wrapped_key, master_key_version, last_four, endpoint, deployment, health, version, created_by) VALUES ?',
      rows,
    );
  }
  await writing;
  // The outbox as a busy platform leaves it: mostly failed events, a tenth pending and due later.
  await connection.query(
    `INSERT INTO webhook_deliveries (id, type, payload, status, attempts, next_attempt_at, first_attempt_at, created_at)
     SELECT CONCAT('msg_scale_', seq), 'provider_key.added', '{}', IF(seq % 10 = 0, 'pending', 'failed'), 1,
            NOW(6) + INTERVAL 1 HOUR, NOW(6), NOW(6) FROM seq_1_to_${WEBHOOK_ROWS}`,
  );
  // An audit row per key, as addProviderKey leaves, and a day of use per key.
  await connection.query(
    `INSERT INTO provider_key_events (account_id, provider, action, actor_id, last_four, health)
     SELECT account_id, provider, 'ADDED', created_by, last_four, health FROM provider_keys`,
  );
  await connection.query(
    `INSERT INTO provider_key_usage (key_id, day, account_id, resolves, failures)
     SELECT id, '2026-12-01', account_id, 1, 0 FROM provider_keys`,
  );
  await connection.query('ANALYZE TABLE provider_key_events, provider_key_usage');
  await connection.query('ANALYZE TABLE provider_keys, accounts, memberships, webhook_deliveries');
  return { seconds: (performance.now() - started) / 1000, sealPerSecond: keys / (sealMs / 1000) };
}

/** `count` requests one after another (after a tenth as warm-up), each with a fresh body from `next`. */
async function measure(
  agent: Agent,
  count: number,
  send: (i: number) => {
    url: string;
    method: 'GET' | 'POST';
    headers?: Record<string, string>;
    body?: string;
  },
  accept: (status: number, body: string) => boolean,
) {
  const latencies: number[] = [];
  for (let i = -Math.ceil(count / 10); i < count; i += 1) {
    const { url, ...options } = send(i);
    const started = performance.now();
    const response = await request(url, { ...options, dispatcher: agent });
    const body = await response.body.text();
    const took = performance.now() - started;
    if (!accept(response.statusCode, body))
      throw new Error(`unexpected answer ${response.statusCode}: ${body.slice(0, 200)}`);
    if (i >= 0) latencies.push(took);
  }
  return percentiles(latencies);
}

async function waitReady(url: string, child: ChildProcess) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the service exited with code ${child.exitCode}`);
    const ready = await fetch(`${url}/readyz`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error('the service was not ready within 60 s');
}

const stop = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });

/** CPU time, ms, of this process's children that have exited (the kernel adds them once reaped). */
function childrenCpuMs(): number {
  const fields = fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / CLOCK_TICKS;
}

/** keys:rewrap as an operator runs it (the built CLI), timed from its start to its exit. */
function rewrap(env: Record<string, string>) {
  return new Promise<{ seconds: number; output: string }>((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [path.join(ROOT, 'dist/src/cli/keys-rewrap.js')], {
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) =>
      code === 0
        ? resolve({ seconds: (performance.now() - started) / 1000, output })
        : reject(new Error(`keys:rewrap exited with code ${code}: ${output.slice(-500)}`)),
    );
  });
}

async function runSize(keys: number): Promise<SizeFigures> {
  const name = `byok_bench_scale_${keys}_${crypto.randomBytes(3).toString('hex')}`;
  const databaseUrl = `${SERVER_URL}/${name}`;
  const [v1, v2, v3] = [1, 2, 3].map(() => crypto.randomBytes(32).toString('base64'));
  const masterKeys = `1:${v1}`;
  const accounts = keys / PROVIDERS.length;
  const server = await createConnection({ uri: SERVER_URL });
  const children: ChildProcess[] = [];
  try {
    process.stdout.write(`\n${keys} keys: seeding ${accounts} accounts into ${name}…\n`);
    await (await openAppDatabase({ type: 'mysql', url: databaseUrl })).destroy(); // migrations
    const connection = await createConnection({ uri: databaseUrl });
    const seeded = await seed(connection, keys, masterKeys).finally(() => connection.end());
    process.stdout.write(
      `  seeded in ${seeded.seconds.toFixed(1)} s (sealing ${Math.round(seeded.sealPerSecond)} keys/s)\n`,
    );

    const secret = crypto.randomBytes(32).toString('base64url');
    const env = {
      NODE_ENV: 'production',
      DATABASE_URL: databaseUrl,
      BYOK_MASTER_KEYS: masterKeys,
      AUTH_JWT_SECRET: secret,
      LOG_LEVEL: 'warn',
      // The seeded keys are fakes, due for a monitor test at once: it would call the real providers.
      KEY_MONITOR: 'off',
    };
    const config = loadConfig(env);
    const [publicPort, internalPort] = [await freePort(), await freePort()];
    const service = startChild('src/main.js', {
      ...env,
      PORT: String(publicPort),
      INTERNAL_PORT: String(internalPort),
      INTERNAL_PLAINTEXT: 'true',
    });
    children.push(service);
    const url = `http://127.0.0.1:${publicPort}`;
    await waitReady(url, service);

    // Accounts spread over the whole table, so the reads land all over its indexes.
    const picked = Array.from({ length: 50 }, (_, i) => Math.floor(((i + 0.5) * accounts) / 50));
    const tokens = await Promise.all(
      picked.map((i) => signToken(config, { userId: `user_scale_${i}`, accountId: account(i) }, '2h')),
    );
    const serviceToken = await signServiceToken(config, 'bench-scale', ['credentials:resolve'], '2h');
    const agent = new Agent({ connections: 1 });
    const readyz = await measure(
      agent,
      REQUESTS,
      () => ({ url: `${url}/readyz`, method: 'GET' }),
      (status) => status === 200,
    );
    const healthz = await measure(
      agent,
      REQUESTS,
      () => ({ url: `${url}/healthz`, method: 'GET' }),
      (status) => status === 200,
    );
    const select1 = await selectOne(databaseUrl, REQUESTS);
    const query = '{ providerKeys { id provider maskedKey health version updatedAt } }';
    const providerKeys = await measure(
      agent,
      REQUESTS,
      (i) => ({
        url: `${url}/graphql`,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${tokens[cycle(i, tokens.length)]}`,
        },
        body: JSON.stringify({ query }),
      }),
      (status, body) =>
        status === 200 &&
        (JSON.parse(body) as { data?: { providerKeys: unknown[] } }).data?.providerKeys.length === 5,
    );
    const resolve = await measure(
      agent,
      REQUESTS,
      (i) => ({
        url: `http://127.0.0.1:${internalPort}/internal/v1/credentials/resolve`,
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${serviceToken}` },
        body: JSON.stringify({
          accountId: account(picked[cycle(i, picked.length)]),
          task: 'ANALYSIS',
        }),
      }),
      (status, body) => status === 200 && body.includes('"apiKey":"sk-scale-'),
    );
    await agent.close();
    await stop(service);
    process.stdout.write(
      `  /readyz p50 ${readyz.p50.toFixed(2)} ms (/healthz ${healthz.p50.toFixed(2)}, SELECT 1 ${select1.p50.toFixed(2)}), providerKeys p50 ${providerKeys.p50.toFixed(2)} ms, resolve p50 ${resolve.p50.toFixed(2)} ms\n`,
    );

    const mariadb = await localServer(SERVER_URL);
    const cpuBefore = { cli: childrenCpuMs(), database: cpuMs(mariadb.pid) };
    const run = await rewrap({ ...env, BYOK_MASTER_KEYS: `1:${v1},2:${v2}` });
    const cpu = { cli: childrenCpuMs() - cpuBefore.cli, database: cpuMs(mariadb.pid) - cpuBefore.database };
    const done = Number(/Done: (\d+) key\(s\) re-wrapped/.exec(run.output)?.[1] ?? NaN);
    if (done !== keys)
      throw new Error(`keys:rewrap moved ${done} of ${keys} keys: ${run.output.slice(-300)}`);
    const lastLine =
      run.output
        .split('\n')
        .filter((line) => line.startsWith('rewrapped'))
        .at(-1) ?? '';
    process.stdout.write(
      `  keys:rewrap: ${done} keys in ${run.seconds.toFixed(1)} s; last line: ${lastLine}\n`,
    );
    await checkRewrapped(databaseUrl, `2:${v2}`);

    const plans = await explainHotStatements({
      databaseUrl,
      env,
      masterKeys: `1:${v1},2:${v2}`,
      nextMasterKeys: `1:${v1},2:${v2},3:${v3}`,
      accounts,
    });
    return {
      keys,
      seedSeconds: seeded.seconds,
      sealPerSecond: seeded.sealPerSecond,
      readyz,
      healthz,
      select1,
      providerKeys,
      resolve,
      rewrap: {
        keys: done,
        seconds: run.seconds,
        perSecond: done / run.seconds,
        cliRate: /(\d+) keys\/s/.exec(lastLine)?.[1] ?? '',
        cliCpuUs: (cpu.cli * 1000) / done,
        databaseCpuUs: (cpu.database * 1000) / done,
      },
      plans,
    };
  } finally {
    await Promise.all(children.map(stop));
    await server.query(`DROP DATABASE IF EXISTS \`${name}\``);
    await server.end();
  }
}

/** Round trips of a bare `SELECT 1` on one mysql2 connection: what any database read costs here now. */
async function selectOne(databaseUrl: string, count: number) {
  const connection = await createConnection({ uri: databaseUrl });
  try {
    const latencies: number[] = [];
    for (let i = -Math.ceil(count / 10); i < count; i += 1) {
      const started = performance.now();
      await connection.query('SELECT 1');
      if (i >= 0) latencies.push(performance.now() - started);
    }
    return percentiles(latencies);
  } finally {
    await connection.end();
  }
}

/** A sample of keys across the table opens with the new master key version alone. */
async function checkRewrapped(databaseUrl: string, onlyNew: string) {
  const keyring = parseKeyring(onlyNew);
  const connection = await createConnection({ uri: databaseUrl });
  try {
    const [rows] = await connection.query(
      'SELECT id, account_id, provider, ciphertext, iv, auth_tag, wrapped_key, master_key_version FROM provider_keys WHERE id IN (SELECT MIN(id) FROM provider_keys UNION SELECT MAX(id) FROM provider_keys)',
    );
    for (const row of rows as Record<string, never>[]) {
      const plaintext = openKey(
        {
          ciphertext: row.ciphertext,
          iv: row.iv,
          tag: row.auth_tag,
          wrappedKey: row.wrapped_key,
          masterKeyVersion: row.master_key_version,
        },
        { accountId: row.account_id, provider: row.provider, keyId: row.id },
        keyring,
      );
      if (!plaintext.startsWith('sk-scale-')) throw new Error('a re-wrapped key did not open');
    }
  } finally {
    await connection.end();
  }
}

const ms = (value: number) => value.toFixed(2);

async function main() {
  const figures: SizeFigures[] = [];
  for (const size of SIZES) figures.push(await runSize(size));
  const cpus = os.cpus();
  const spread = (pick: (f: SizeFigures) => number) => {
    const values = figures.map(pick);
    return Math.max(...values) / Math.min(...values) - 1;
  };
  const largest = figures[figures.length - 1];
  const smallest = figures[0];
  const text = [
    `Run by \`npm run bench:scale\` on ${new Date().toISOString().slice(0, 10)}: ${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}, Node ${process.version}, MariaDB over loopback TCP (innodb_buffer_pool_size as configured here). Each size in a fresh database: five keys per account, sealed by the service's envelope code under master key version 1, ${WEBHOOK_ROWS} outbox rows beside them. ${REQUESTS} requests per path, one at a time over one kept-alive connection, after a tenth as warm-up; providerKeys and resolve spread over 50 accounts across the table. keys:rewrap is the built CLI with its default batch (1,000), timed from its start to its exit, to master key version 2.`,
    '',
    "| stored keys | seeding | /readyz p50 / p99 ms | floor: /healthz p50 / p99 ms | floor: SELECT 1 p50 / p99 ms | providerKeys p50 / p99 ms | resolve p50 / p99 ms | keys:rewrap keys/s (CLI's own rate) | keys:rewrap CPU µs/key: CLI + MariaDB |",
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...figures.map(
      (f) =>
        `| ${f.keys.toLocaleString('en')} | ${f.seedSeconds.toFixed(0)} s (sealing ${Math.round(f.sealPerSecond).toLocaleString('en')} keys/s) | ${ms(f.readyz.p50)} / ${ms(f.readyz.p99)} | ${ms(f.healthz.p50)} / ${ms(f.healthz.p99)} | ${ms(f.select1.p50)} / ${ms(f.select1.p99)} | ${ms(f.providerKeys.p50)} / ${ms(f.providerKeys.p99)} | ${ms(f.resolve.p50)} / ${ms(f.resolve.p99)} | ${Math.round(f.rewrap.perSecond).toLocaleString('en')} (${f.rewrap.cliRate}) in ${f.rewrap.seconds.toFixed(1)} s | ${Math.round(f.rewrap.cliCpuUs)} + ${Math.round(f.rewrap.databaseCpuUs)} |`,
    ),
    '',
    `Targets: /readyz median under 5 ms at every size (${figures.map((f) => ms(f.readyz.p50)).join(', ')} ms); keys:rewrap ≥ 10,000 keys/s at ${largest.keys.toLocaleString('en')} keys (${Math.round(largest.rewrap.perSecond).toLocaleString('en')}) and no slower per key than at ${smallest.keys.toLocaleString('en')} (${Math.round(smallest.rewrap.perSecond).toLocaleString('en')}); request-path medians within 20% across sizes (providerKeys ${(spread((f) => f.providerKeys.p50) * 100).toFixed(0)}%, resolve ${(spread((f) => f.resolve.p50) * 100).toFixed(0)}%, /readyz ${(spread((f) => f.readyz.p50) * 100).toFixed(0)}%).`,
    '',
    `Load average while it ran: ${os
      .loadavg()
      .map((load) => load.toFixed(1))
      .join(
        ', ',
      )} (1, 5, 15 min) on ${cpus.length} cores shared with other work. CPU-bound rate of keys:rewrap with its two sides overlapping on two idle cores (1 s / the larger CPU time per key), and with none overlapping (1 s / their sum): ${figures.map((f) => `${f.keys.toLocaleString('en')} keys: ${Math.round(1e6 / Math.max(f.rewrap.cliCpuUs, f.rewrap.databaseCpuUs)).toLocaleString('en')} and ${Math.round(1e6 / (f.rewrap.cliCpuUs + f.rewrap.databaseCpuUs)).toLocaleString('en')} keys/s`).join('; ')}.`,
    '',
    `EXPLAIN of each hot statement at ${largest.keys.toLocaleString('en')} keys, as the service's code sent it (bench/scale-explain.ts):`,
    '',
    printPlans(largest.plans),
  ].join('\n');
  process.stdout.write(`\n${text}`);
  const scans = largest.plans.filter((plan) => plan.scan);
  if (scans.length) process.stdout.write(`\n${scans.length} statement(s) marked SCAN\n`);
  writeFigures('scale', text);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
