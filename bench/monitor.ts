import 'reflect-metadata';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createConnection } from 'mysql2/promise';
import { openAppDatabase } from '../src/app/database';
import { inTransaction } from '../src/db/transaction';
import { createLogger } from '../src/logger';
import { adapterFor } from '../src/providers/adapters';
import { AiProvider } from '../src/providers/ai-provider.enum';
import { DEFAULT_WEBHOOK_TIMING, WebhookDispatcher } from '../src/webhooks/webhook-dispatcher';
import { WebhookOutbox } from '../src/webhooks/webhook-outbox.store';
import { cpuMs, freePort, seedBenchDatabase, startChild } from './harness';

// npm run bench, third part: the key monitor's capacity and the webhook dispatcher's rate.
//  1. One service process (dist/src/main.js) at the default KEY_MONITOR_CONCURRENCY, 10,000 stored keys
//     all due, against a fake OpenAI whose model list answers in 200 ms: tests per hour and the process's
//     CPU per test, measured over BENCH_SECONDS once the first test arrived.
//  2. The dispatcher at its default timing, delivering BENCH_WEBHOOKS events from the outbox to a
//     loopback receiver that answers 204 at once: deliveries per second.
// Prints figures; asserts nothing. docs/benchmarks.md is written by hand from them.

const SERVER_URL = (process.env.BENCH_DATABASE_URL ?? 'mysql://root@127.0.0.1:3306').replace(/\/+$/, '');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const KEYS = Number(process.env.BENCH_MONITOR_KEYS ?? 10_000);
const WEBHOOKS = Number(process.env.BENCH_WEBHOOKS ?? 2_000);
const PROVIDER_DELAY_MS = 200;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A loopback server answering every request with `answer` after `delayMs`; counts what it got. */
async function countingServer(delayMs: number, answer: (res: http.ServerResponse) => void) {
  let count = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    count += 1;
    setTimeout(() => answer(res), delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    count: () => count,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function monitorCapacity(databaseUrl: string, masterKeys: string): Promise<string> {
  const models = Object.values(adapterFor(AiProvider.OPENAI).models).map((id) => ({ id, object: 'model' }));
  const body = JSON.stringify({ object: 'list', data: models });
  const provider = await countingServer(PROVIDER_DELAY_MS, (res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
  });
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'byok-bench-monitor-'));
  const child = startChild('src/main.js', {
    PORT: String(await freePort()),
    DATABASE_URL: databaseUrl,
    BYOK_MASTER_KEYS: masterKeys,
    AUTH_JWT_SECRET: crypto.randomBytes(32).toString('base64'),
    DATA_DIR: dataDir,
    OPENAI_BASE_URL: `${provider.url}/v1`,
    OUTBOUND_ALLOWLIST: provider.url.replace('http://', ''),
    LOG_LEVEL: 'warn',
  });
  try {
    for (let i = 0; i < 600 && provider.count() === 0; i++) await sleep(100);
    if (provider.count() === 0) throw new Error('the monitor made no test within 60 s');
    const before = { tests: provider.count(), cpu: cpuMs(child.pid), at: performance.now() };
    await sleep(SECONDS * 1000);
    const tests = provider.count() - before.tests;
    const seconds = (performance.now() - before.at) / 1000;
    const cpu = cpuMs(child.pid) - before.cpu;
    const perHour = Math.round((tests / seconds) * 3600);
    return [
      `Key monitor, one process, KEY_MONITOR_CONCURRENCY=4 (default), ${KEYS} keys due, provider answering in ${PROVIDER_DELAY_MS} ms:`,
      `  ${tests} tests in ${seconds.toFixed(1)} s = ${perHour} tests/hour (${(tests / seconds).toFixed(1)}/s)`,
      `  CPU of the service process: ${(cpu / Math.max(tests, 1)).toFixed(2)} ms per test (${Math.round(cpu)} ms in all)`,
      `  at one test per key a day: about ${perHour * 24} keys per replica (one provider; starts are paced 100 ms apart per provider)`,
    ].join('\n');
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    await provider.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

async function dispatcherRate(databaseUrl: string): Promise<string> {
  const receiver = await countingServer(0, (res) => {
    res.writeHead(204);
    res.end();
  });
  const dataSource = await openAppDatabase({ type: 'mysql', url: databaseUrl });
  const outbox = new WebhookOutbox(dataSource);
  const data = {
    accountId: 'acct_bench_0',
    provider: AiProvider.OPENAI,
    keyId: 'bench',
    maskedKey: '****0000',
    health: null,
    previousHealth: null,
    actorId: 'monitor',
  };
  for (let i = 0; i < WEBHOOKS; i += 100) {
    await inTransaction(dataSource, async (manager) => {
      for (let j = i; j < Math.min(i + 100, WEBHOOKS); j++)
        await outbox.publish(manager, 'provider_key.health_changed', data);
    });
  }
  const secret = `whsec_${crypto.randomBytes(32).toString('base64')}`;
  const dispatcher = new WebhookDispatcher(
    outbox,
    { url: `${receiver.url}/hooks`, secret },
    createLogger('silent'),
    DEFAULT_WEBHOOK_TIMING,
  );
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  dispatcher.start();
  try {
    for (let i = 0; i < 1200 && receiver.count() < WEBHOOKS; i++) await sleep(50);
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    return [
      `Webhook dispatcher, one process, default timing (batches of ${DEFAULT_WEBHOOK_TIMING.batchSize}), receiver answering 204 at once:`,
      `  ${receiver.count()} of ${WEBHOOKS} events delivered in ${seconds.toFixed(1)} s = ${(receiver.count() / seconds).toFixed(0)} deliveries/s`,
      `  CPU of this process (dispatcher and receiver): ${((cpu.user + cpu.system) / 1000 / Math.max(receiver.count(), 1)).toFixed(2)} ms per delivery`,
    ].join('\n');
  } finally {
    await dispatcher.stop();
    await dataSource.destroy();
    await receiver.close();
  }
}

async function main(): Promise<void> {
  const name = `byok_bench_monitor_${process.pid}`;
  const databaseUrl = `${SERVER_URL}/${name}`;
  const masterKeys = `1:${crypto.randomBytes(32).toString('base64')}`;
  process.stdout.write(`Seeding ${KEYS} keys into ${name}…\n`);
  await seedBenchDatabase(databaseUrl, masterKeys, KEYS);
  try {
    process.stdout.write(`${await monitorCapacity(databaseUrl, masterKeys)}\n`);
    process.stdout.write(`${await dispatcherRate(databaseUrl)}\n`);
  } finally {
    const connection = await createConnection({ uri: SERVER_URL });
    await connection.query(`DROP DATABASE IF EXISTS \`${name}\``);
    await connection.end();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error instanceof Error ? error.stack : error)}\n`);
  process.exitCode = 1;
});
