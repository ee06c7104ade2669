import 'reflect-metadata';
import { ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import autocannon from 'autocannon';
import { createConnection } from 'mysql2/promise';
import { Agent, request } from 'undici';
import { signServiceToken } from '../src/auth/jwt';
import { loadConfig } from '../src/config';
import { makeCertificates } from '../test/support/certificates';
import {
  asError,
  cpuMs,
  freePort,
  localServer,
  percentiles,
  seedBenchDatabase,
  startChild,
  writeFigures,
} from './harness';

// npm run bench, second part: the internal credential API's resolve over loopback with 64 connections,
// against a baseline measured in the same run: a bare node:http server answering the same route from
// one indexed SELECT with mysql2 (no token, validation, decryption or usage), with the same TLS setting.
// Plaintext, mutual TLS with kept-alive connections, and mutual TLS with a new connection per request.
// Prints figures and writes them to docs/benchmarks.md; asserts nothing.

const SERVER_URL = (process.env.BENCH_DATABASE_URL ?? 'mysql://root@127.0.0.1:3306').replace(/\/+$/, '');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_RESOLVE_CONNECTIONS ?? 64);
const ACCOUNTS = 1_000;
const SLICES = 5;
const PATH = '/internal/v1/credentials/resolve';

interface Sample {
  latencies: number[];
  rps: number;
  failed: number;
  serverCpuMs: number;
  databaseCpuMs: number;
}

interface Target {
  url: string;
  child: ChildProcess;
  tls?: { ca: Buffer; cert: Buffer; key: Buffer };
}

function load(
  target: Target,
  databasePid: number | undefined,
  token: string,
  seconds: number,
  fresh: boolean,
): Promise<Sample> {
  if (fresh) return loadFresh(target, databasePid, token, seconds);
  const latencies: number[] = [];
  let next = 0;
  const before = { server: cpuMs(target.child.pid), database: cpuMs(databasePid) };
  return new Promise((resolve, reject) => {
    const run = autocannon(
      {
        url: `${target.url}${PATH}`,
        method: 'POST',
        connections: CONNECTIONS,
        duration: seconds,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        requests: [
          {
            method: 'POST',
            setupRequest: (req: autocannon.Request) => ({
              ...req,
              body: JSON.stringify({ accountId: `acct_bench_${next++ % ACCOUNTS}`, task: 'ANALYSIS' }),
            }),
          },
        ],
        ...(target.tls ? { tlsOptions: { ...target.tls, servername: 'localhost' } } : {}),
      },
      (error, result) =>
        error
          ? reject(asError(error))
          : resolve({
              latencies,
              rps: result.requests.average,
              failed: result.errors + result.non2xx,
              serverCpuMs: cpuMs(target.child.pid) - before.server,
              databaseCpuMs: cpuMs(databasePid) - before.database,
            }),
    );
    run.on('response', (_client, _status, _bytes, milliseconds) => latencies.push(milliseconds));
  });
}

/**
 * Every request on a connection of its own (TLS handshake included), from CONNECTIONS workers: what a
 * client without keep-alive costs. (autocannon's reconnectRate of 1 sends nothing at all.)
 */
async function loadFresh(
  target: Target,
  databasePid: number | undefined,
  token: string,
  seconds: number,
): Promise<Sample> {
  const latencies: number[] = [];
  let failed = 0;
  let next = 0;
  const before = { server: cpuMs(target.child.pid), database: cpuMs(databasePid) };
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const url = new URL(`${target.url}${PATH}`);
  const once = () =>
    new Promise<void>((resolve) => {
      const body = JSON.stringify({ accountId: `acct_bench_${next++ % ACCOUNTS}`, task: 'ANALYSIS' });
      const sent = performance.now();
      const req = https.request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          agent: false, // a new connection, closed after the answer
          ...target.tls,
          servername: 'localhost',
          headers: {
            'content-type': 'application/json',
            authorization: `Bearer ${token}`,
            connection: 'close',
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            if (res.statusCode === 200) latencies.push(performance.now() - sent);
            else failed += 1;
            resolve();
          });
        },
      );
      req.on('error', () => {
        failed += 1;
        resolve();
      });
      req.end(body);
    });
  const worker = async () => {
    while (performance.now() < deadline) await once();
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  return {
    latencies,
    rps: latencies.length / ((performance.now() - started) / 1000),
    failed,
    serverCpuMs: cpuMs(target.child.pid) - before.server,
    databaseCpuMs: cpuMs(databasePid) - before.database,
  };
}

interface Figures {
  rps: number;
  p50: number;
  p99: number;
  failed: number;
  serverCpu: number;
  databaseCpu: number;
}

function combine(samples: Sample[]): Figures {
  const sum = (pick: (sample: Sample) => number) =>
    samples.reduce((total, sample) => total + pick(sample), 0);
  const responses = sum((sample) => sample.latencies.length);
  return {
    rps: sum((sample) => sample.rps) / samples.length,
    ...percentiles(samples.flatMap((sample) => sample.latencies)),
    failed: sum((sample) => sample.failed),
    serverCpu: (sum((sample) => sample.serverCpuMs) * 1000) / responses,
    databaseCpu: (sum((sample) => sample.databaseCpuMs) * 1000) / responses,
  };
}

async function waitFor(url: string, tls: Target['tls']): Promise<void> {
  const dispatcher = tls ? new Agent({ connect: { ...tls, servername: 'localhost' } }) : undefined;
  for (let attempt = 0; attempt < 200; attempt++) {
    try {
      await request(url, { method: 'POST', dispatcher });
      await dispatcher?.close();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`${url} did not come up`);
}

async function main(): Promise<void> {
  const database = `byok_bench_${crypto.randomBytes(4).toString('hex')}`;
  const databaseUrl = `${SERVER_URL}/${database}`;
  const masterKeys = `1:${crypto.randomBytes(32).toString('base64')}`;
  const secret = crypto.randomBytes(32).toString('base64url');
  const certs = makeCertificates('bench');
  const children: ChildProcess[] = [];
  try {
    process.stdout.write(`\nResolve: seeding ${ACCOUNTS} accounts with keys into ${database}…\n`);
    await seedBenchDatabase(databaseUrl, masterKeys, ACCOUNTS);
    const server = await localServer(SERVER_URL);
    const socketUrl = server.socket ? `${databaseUrl}?socket=${server.socket}` : databaseUrl;
    const env = {
      NODE_ENV: 'production',
      DATABASE_URL: socketUrl,
      BYOK_MASTER_KEYS: masterKeys,
      AUTH_JWT_SECRET: secret,
      LOG_LEVEL: 'info',
      // The seeded keys are fakes, due for a monitor test at once: it would call the real providers.
      KEY_MONITOR: 'off',
    };
    const token = await signServiceToken(loadConfig(env), 'bench-pipeline', ['credentials:resolve'], '2h');
    const client = {
      ca: fs.readFileSync(certs.ca),
      cert: fs.readFileSync(certs.clientCert),
      key: fs.readFileSync(certs.clientKey),
    };

    const pair = async (mutualTls: boolean): Promise<[Target, Target]> => {
      const [servicePort, publicPort, baselinePort] = [await freePort(), await freePort(), await freePort()];
      const tlsEnv: Record<string, string> = mutualTls
        ? {
            INTERNAL_TLS_CERT: certs.serverCert,
            INTERNAL_TLS_KEY: certs.serverKey,
            INTERNAL_TLS_CA: certs.ca,
          }
        : { INTERNAL_PLAINTEXT: 'true' };
      const service = startChild('src/main.js', {
        ...env,
        ...tlsEnv,
        PORT: String(publicPort),
        INTERNAL_PORT: String(servicePort),
      });
      const baseline = startChild('bench/resolve-baseline.js', {
        PORT: String(baselinePort),
        DATABASE_URL: databaseUrl,
        SOCKET: server.socket ?? '',
        ...(mutualTls ? { TLS_CERT: certs.serverCert, TLS_KEY: certs.serverKey, TLS_CA: certs.ca } : {}),
      });
      children.push(service, baseline);
      const scheme = mutualTls ? 'https' : 'http';
      const target = (port: number, child: ChildProcess): Target => ({
        url: `${scheme}://127.0.0.1:${port}`,
        child,
        ...(mutualTls ? { tls: client } : {}),
      });
      const targets: [Target, Target] = [target(servicePort, service), target(baselinePort, baseline)];
      await Promise.all(targets.map((target) => waitFor(`${target.url}${PATH}`, target.tls)));
      return targets;
    };

    const rows: string[] = [];
    const measure = async (name: string, [service, baseline]: [Target, Target], reconnect: boolean) => {
      const slice = SECONDS / SLICES;
      await load(service, server.pid, token, slice, reconnect); // warm-up, not counted
      await load(baseline, server.pid, token, slice, reconnect);
      const serviceSamples: Sample[] = [];
      const baselineSamples: Sample[] = [];
      for (let i = 0; i < SLICES; i++) {
        baselineSamples.push(await load(baseline, server.pid, token, slice, reconnect));
        serviceSamples.push(await load(service, server.pid, token, slice, reconnect));
      }
      const [ours, bare] = [combine(serviceSamples), combine(baselineSamples)];
      const micros = (value: number) => (Number.isFinite(value) ? value.toFixed(0) : '–');
      rows.push(
        `| ${name} | ${ours.rps.toFixed(0)} | ${bare.rps.toFixed(0)} | ${(ours.rps / bare.rps).toFixed(2)} | ${+ours.p50.toFixed(1)} / ${+bare.p50.toFixed(1)} | ${+ours.p99.toFixed(1)} / ${+bare.p99.toFixed(1)} | ${(ours.p99 / bare.p99).toFixed(2)} | ${micros(ours.serverCpu)} / ${micros(bare.serverCpu)} | ${micros(ours.databaseCpu)} / ${micros(bare.databaseCpu)} | ${ours.failed} / ${bare.failed} |`,
      );
      return { ours, bare };
    };

    process.stdout.write(
      `Resolve: ${CONNECTIONS} connections, ${SECONDS} s per scenario in ${SLICES} slices…\n`,
    );
    const plain = await measure('plaintext', await pair(false), false);
    const mutual = await pair(true);
    await measure('mutual TLS, connections kept alive', mutual, false);
    await measure('mutual TLS, a new connection per request', mutual, true);

    const cpus = os.cpus();
    const ratio = plain.ours.rps / plain.bare.rps;
    const text = [
      `Run by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: ${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}, Node ${process.version}, MariaDB ${server.socket ? 'on this host through its Unix socket' : 'over TCP'}; ${CONNECTIONS} connections over loopback, ${SECONDS} s per scenario in ${SLICES} slices, each right after a slice of its baseline. The service runs with NODE_ENV=production and LOG_LEVEL=info (one log line per request, to /dev/null), ${ACCOUNTS} accounts holding a key each, one service token; every resolve reads the database, opens the key and counts its use. The baseline is a bare node:http(s) server answering the same route from one indexed SELECT with mysql2, with the same TLS setting. CPU is user and system time per resolve, of the server and of MariaDB.`,
      ``,
      `| scenario | service requests/s | baseline requests/s | ratio | p50 ms service / baseline | p99 ms service / baseline | p99 ratio | server CPU µs/request service / baseline | MariaDB CPU µs/request service / baseline | failed service / baseline |`,
      `| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |`,
      ...rows,
      ``,
      `Targets (plaintext): resolve at ${(ratio * 100).toFixed(0)}% of the baseline's requests per second (target ≥ 70%); p99 ${(plain.ours.p99 / plain.bare.p99).toFixed(2)}× the baseline's (target ≤ 1.5×); ${plain.ours.failed} failed (target 0).`,
      ``,
    ].join('\n');
    process.stdout.write(`\n${text}`);
    writeFigures('resolve', text);
  } finally {
    for (const child of children) child.kill('SIGKILL');
    certs.remove();
    const connection = await createConnection({ uri: SERVER_URL });
    await connection.query(`DROP DATABASE IF EXISTS \`${database}\``);
    await connection.end();
  }
}

main().catch((error) => {
  process.stderr.write(`resolve bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
