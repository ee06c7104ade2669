import 'reflect-metadata';
import { ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import os from 'node:os';
import autocannon from 'autocannon';
import {
  asError,
  cpuMs,
  freePort,
  localServer,
  percentiles,
  rssKiB,
  seedBenchDatabase,
  startChild,
  writeFigures,
} from './harness';
import { createConnection, createPool, PoolConnection } from 'mysql2/promise';
import { signToken } from '../src/auth/jwt';
import { loadConfig } from '../src/config';
import { AiProvider } from '../src/providers/ai-provider.enum';
import { KeyHealth } from '../src/providers/key-health.enum';

// npm run bench: the service on MariaDB with 1,000 accounts that hold keys, against a bare Apollo Server
// answering `{ __typename }` measured in the same run. Prints figures and writes docs/benchmarks.md;
// asserts nothing. Env: BENCH_DATABASE_URL (server, default mysql://root@127.0.0.1:3306),
// BENCH_SECONDS (per scenario, default 10), BENCH_CONNECTIONS (default 16).

const SERVER_URL = (process.env.BENCH_DATABASE_URL ?? 'mysql://root@127.0.0.1:3306').replace(/\/+$/, '');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const ACCOUNTS = 1_000;
const SLICES = 5;

interface Figures {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  /** GraphQL answers other than the one expected (data, or UNAUTHENTICATED for the denied path). */
  unexpected: number;
  /** CPU time (user and system) per request, µs: of the server answering, and of MariaDB when it runs here. */
  serverCpu: number;
  databaseCpu: number;
}

/** A scenario of the service, with the throughput of the baseline slices measured between its own. */
interface Measured extends Figures {
  baselineRps: number;
}

async function waitFor(url: string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    try {
      await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"query":"{ __typename }"}',
      });
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`${url} did not come up`);
}

type Request = { body: string; expect?: 'data' | 'UNAUTHENTICATED' };

function isExpected(body: string, expect: Request['expect'] = 'data'): boolean {
  const json = JSON.parse(body) as { data?: unknown; errors?: { extensions?: { code?: string } }[] };
  return expect === 'data'
    ? !json.errors && json.data != null
    : json.errors?.[0]?.extensions?.code === expect;
}

/** One autocannon run, with every response's latency kept so that runs can be combined exactly. */
interface Sample extends Omit<Figures, 'p50' | 'p99' | 'serverCpu' | 'databaseCpu'> {
  latencies: number[];
  /** CPU time used during the run, ms. */
  serverCpuMs: number;
  databaseCpuMs: number;
}

/** The processes whose CPU time a run is charged with: the server it loads, and MariaDB when it runs here. */
interface Processes {
  server: number | undefined;
  database: number | undefined;
}

function load(
  name: string,
  url: string,
  processes: Processes,
  requests: Request[],
  tokenFor?: (client: number) => string,
  extra: Partial<autocannon.Options> = {},
): Promise<Sample> {
  let client = 0;
  let unexpected = 0;
  const latencies: number[] = [];
  const cpuBefore = { server: cpuMs(processes.server), database: cpuMs(processes.database) };
  return new Promise((resolve, reject) => {
    const run = autocannon(
      {
        url,
        method: 'POST',
        connections: CONNECTIONS,
        duration: SECONDS,
        headers: { 'content-type': 'application/json' },
        requests: requests.map((request) => ({
          method: 'POST',
          body: request.body,
          // autocannon starts each pass through the sequence with a fresh context: a pass acts as one account.
          setupRequest: (req: autocannon.Request, context: { token?: string }) => {
            if (!tokenFor) return req;
            context.token ??= tokenFor(client++);
            return { ...req, headers: { ...req.headers, authorization: `Bearer ${context.token}` } };
          },
          onResponse: (_status: number, body: string) => {
            if (!isExpected(body, request.expect)) unexpected += 1;
          },
        })),
        ...extra,
      },
      (error, result) =>
        error
          ? reject(asError(error))
          : resolve({
              name,
              rps: result.requests.average,
              latencies,
              errors: result.errors,
              non2xx: result.non2xx,
              unexpected,
              serverCpuMs: cpuMs(processes.server) - cpuBefore.server,
              databaseCpuMs: cpuMs(processes.database) - cpuBefore.database,
            }),
    );
    run.on('response', (_client, _status, _bytes, milliseconds) => latencies.push(milliseconds));
  });
}

/** Slices of equal length as one measurement: mean throughput, percentiles over all their responses. */
function combine(parts: Sample[]): Figures {
  const sum = (pick: (sample: Sample) => number) => parts.reduce((total, sample) => total + pick(sample), 0);
  const responses = sum((p) => p.latencies.length);
  return {
    name: parts[0].name,
    rps: sum((p) => p.rps) / parts.length,
    ...percentiles(parts.flatMap((p) => p.latencies)),
    errors: sum((p) => p.errors),
    non2xx: sum((p) => p.non2xx),
    unexpected: sum((p) => p.unexpected),
    serverCpu: (sum((p) => p.serverCpuMs) * 1000) / responses,
    databaseCpu: (sum((p) => p.databaseCpuMs) * 1000) / responses,
  };
}

const body = (query: string, variables?: unknown) => JSON.stringify({ query, variables });

/** The write pairs with nothing but the database, as measured by writeFloor. */
type Floor = Pick<Figures, 'rps' | 'p50' | 'p99' | 'errors' | 'databaseCpu'>;

/**
 * The write pairs with nothing but the database: the statements the service sends for one
 * addProviderKey and one removeProviderKey (the membership read, then the transaction), from
 * CONNECTIONS bare mysql2 clients on a pool as large as the service's, for SECONDS. No HTTP, no
 * GraphQL, no TypeORM: the least a write can take on this machine and this MariaDB.
 */
async function writeFloor(databaseUrl: string, server: { socket?: string; pid?: number }): Promise<Floor> {
  // Runs after the write scenario, whose last slice left no MISTRAL key behind (dropLeftoverKeys).
  const pool = createPool({
    uri: databaseUrl,
    socketPath: server.socket,
    connectionLimit: 10,
    timezone: 'Z',
  });
  const latencies: number[] = [];
  let errors = 0;
  const deadline = Date.now() + SECONDS * 1000;
  const membership = (account: string, user: string) =>
    pool.execute(
      'SELECT m.role, a.plan, k.id FROM memberships m INNER JOIN accounts a ON a.id = m.account_id LEFT JOIN provider_keys k ON k.account_id = m.account_id WHERE m.user_id = ? AND m.account_id = ?',
      [user, account],
    );
  const inTransaction = async (work: (connection: PoolConnection) => Promise<void>) => {
    const connection = await pool.getConnection();
    try {
      await connection.query('START TRANSACTION');
      await work(connection);
      await connection.query('COMMIT');
    } finally {
      connection.release();
    }
  };
  const add = (account: string, user: string) =>
    inTransaction(async (connection) => {
      const id = crypto.randomUUID();
      await connection.query(
        'INSERT INTO provider_keys (id, account_id, provider, ciphertext, iv, auth_tag, wrapped_key, master_key_version, last_four, label, endpoint, deployment, health, last_tested_at, last_test_message, version, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        [
          id,
          account,
          AiProvider.MISTRAL,
          crypto.randomBytes(45),
          crypto.randomBytes(12),
          crypto.randomBytes(16),
          crypto.randomBytes(60),
          1,
          'abcd',
          null,
          null,
          null,
          KeyHealth.UNTESTED,
          null,
          null,
          1,
          user,
          new Date(),
          new Date(),
        ],
      );
      await connection.query(
        'INSERT INTO provider_key_events (account_id, provider, action, actor_id, last_four, health) VALUES (?, ?, ?, ?, ?, ?)',
        [account, AiProvider.MISTRAL, 'ADDED', user, 'abcd', KeyHealth.UNTESTED],
      );
    });
  const remove = (account: string, user: string) =>
    inTransaction(async (connection) => {
      const zeros = (column: string) => `${column} = REPEAT(X'00', LENGTH(${column}))`;
      await connection.query(
        `UPDATE provider_keys SET ${['ciphertext', 'iv', 'auth_tag', 'wrapped_key'].map(zeros).join(', ')}, updated_at = CURRENT_TIMESTAMP(6) WHERE account_id = ? AND provider = ?`,
        [account, AiProvider.MISTRAL],
      );
      await connection.query(
        'INSERT INTO provider_key_events (account_id, provider, action, actor_id, last_four, health) SELECT account_id, provider, ?, ?, last_four, NULL FROM provider_keys WHERE account_id = ? AND provider = ?',
        ['REMOVED', user, account, AiProvider.MISTRAL],
      );
      await connection.query('DELETE FROM provider_keys WHERE account_id = ? AND provider = ?', [
        account,
        AiProvider.MISTRAL,
      ]);
    });
  const client = async (index: number) => {
    for (let pass = 0; Date.now() < deadline; pass += 1) {
      const n = (index + pass * CONNECTIONS) % ACCOUNTS;
      for (const write of [add, remove]) {
        const started = performance.now();
        try {
          await membership(`acct_bench_${n}`, `user_bench_${n}`);
          await write(`acct_bench_${n}`, `user_bench_${n}`);
          latencies.push(performance.now() - started);
        } catch {
          errors += 1;
        }
      }
    }
  };
  const started = performance.now();
  const cpuBefore = cpuMs(server.pid);
  try {
    await Promise.all(Array.from({ length: CONNECTIONS }, (_, index) => client(index)));
  } finally {
    await pool.end();
  }
  const seconds = (performance.now() - started) / 1000;
  const databaseCpu = ((cpuMs(server.pid) - cpuBefore) * 1000) / latencies.length;
  return { rps: latencies.length / seconds, ...percentiles(latencies), errors, databaseCpu };
}

async function main(): Promise<void> {
  const database = `byok_bench_${crypto.randomBytes(4).toString('hex')}`;
  const databaseUrl = `${SERVER_URL}/${database}`;
  const masterKeys = `1:${crypto.randomBytes(32).toString('base64')}`;
  const secret = crypto.randomBytes(32).toString('base64url');
  const children: ChildProcess[] = [];
  try {
    process.stdout.write(`Seeding ${ACCOUNTS} accounts with keys into ${database}…\n`);
    const accounts = await seedBenchDatabase(databaseUrl, masterKeys, ACCOUNTS);

    const env = {
      NODE_ENV: 'production',
      DATABASE_URL: databaseUrl,
      BYOK_MASTER_KEYS: masterKeys,
      AUTH_JWT_SECRET: secret,
      LOG_LEVEL: 'info',
      // The seeded keys are fakes, due for a monitor test at once: it would call the real providers.
      KEY_MONITOR: 'off',
    };
    const config = loadConfig(env);
    const tokens = await Promise.all(
      accounts.map((_, i) =>
        signToken(config, { userId: `user_bench_${i}`, accountId: `acct_bench_${i}` }, '2h'),
      ),
    );
    // The service talks to a MariaDB on this host as one would deploy it, through its Unix socket; a
    // second instance on loopback TCP shows what that transport costs (see docs/benchmarks.md).
    const server = await localServer(SERVER_URL);
    const { socket } = server;
    const [servicePort, tcpServicePort, baselinePort] = [
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    const service = startChild('src/main.js', {
      ...env,
      PORT: String(servicePort),
      ...(socket ? { DATABASE_URL: `${databaseUrl}?socket=${socket}` } : {}),
    });
    const tcpService = socket
      ? startChild('src/main.js', { ...env, PORT: String(tcpServicePort) })
      : undefined;
    const baseline = startChild('bench/baseline-server.js', {
      PORT: String(baselinePort),
      NODE_ENV: 'production',
    });
    children.push(service, baseline, ...(tcpService ? [tcpService] : []));
    const serviceUrl = `http://127.0.0.1:${servicePort}/graphql`;
    const tcpServiceUrl = `http://127.0.0.1:${tcpServicePort}/graphql`;
    const baselineUrl = `http://127.0.0.1:${baselinePort}/`;
    await Promise.all([
      waitFor(serviceUrl),
      waitFor(baselineUrl),
      ...(tcpService ? [waitFor(tcpServiceUrl)] : []),
    ]);
    process.stdout.write(
      `The service reaches MariaDB ${socket ? `through ${socket}` : 'over TCP (no local socket found)'}.\n`,
    );

    const providerKeys = body(
      'query ProviderKeys { providerKeys { id provider maskedKey label health lastTestedAt billingMode version createdAt updatedAt } }',
    );
    const aiSettings = body(
      'query AiSettings { aiSettings { plan byokAvailable routes { task provider model billingMode health } } }',
    );
    const add = body(
      'mutation Add($i: AddProviderKeyInput!) { addProviderKey(input: $i) { id maskedKey version } }',
      {
        i: { provider: 'MISTRAL', apiKey: `bench${crypto.randomBytes(20).toString('hex')}`, verify: false },
      },
    );
    const remove = body('mutation Remove { removeProviderKey(provider: MISTRAL) { billingMode } }');
    const warmup = { duration: 2 } as const;

    process.stdout.write(
      `Measuring, ${CONNECTIONS} connections, ${SECONDS} s per scenario in ${SLICES} slices…\n`,
    );
    const baselineRequest = [{ body: body('{ __typename }') }];
    const baselineName = 'baseline: bare Apollo `{ __typename }`';
    // Passes rotate through the seeded accounts, each with its own admin token.
    const asAdmin = (offset: number) => (c: number) => tokens[(c + offset) % ACCOUNTS];
    const processes = (child: ChildProcess | undefined): Processes => ({
      server: child?.pid,
      database: server.pid,
    });
    await load('warm-up', baselineUrl, processes(baseline), baselineRequest, undefined, warmup);
    await load('warm-up', serviceUrl, processes(service), [{ body: providerKeys }], asAdmin(0), warmup);
    // A write slice can stop between an add and its remove; the next slice starts without that key.
    // Requests cut off at the slice's end still complete in the service: they are given time to first.
    const dropLeftoverKeys = async () => {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const connection = await createConnection({ uri: databaseUrl });
      await connection.query('DELETE FROM provider_keys WHERE provider = ?', [AiProvider.MISTRAL]);
      await connection.end();
    };
    type Scenario = [
      name: string,
      requests: Request[],
      tokenFor?: (client: number) => string,
      target?: [url: string, child?: ChildProcess],
      afterSlice?: () => Promise<void>,
    ];
    const scenarios: Scenario[] = [
      // The ceiling of any signed-in operation: the service's own work with a token and no database.
      ['service: `{ __typename }` with a token', baselineRequest, asAdmin(0)],
      ['providerKeys (admin)', [{ body: providerKeys }], asAdmin(0)],
      ...(tcpService
        ? [
            [
              'providerKeys (admin), database over loopback TCP',
              [{ body: providerKeys }],
              asAdmin(0),
              [tcpServiceUrl, tcpService],
            ] satisfies Scenario,
          ]
        : []),
      ['aiSettings (admin)', [{ body: aiSettings }], asAdmin(100)],
      ['denied: providerKeys without a token', [{ body: providerKeys, expect: 'UNAUTHENTICATED' }]],
      [
        'addProviderKey + removeProviderKey pairs',
        [{ body: add }, { body: remove }],
        asAdmin(500),
        [serviceUrl, service],
        dropLeftoverKeys,
      ],
    ];
    // On a shared machine speed drifts within seconds, not only over minutes: each scenario runs in
    // slices, each right after a slice of the baseline, and is compared with those baseline slices.
    const slice = { duration: SECONDS / SLICES };
    const baselineSlices: Sample[] = [];
    const results: Measured[] = [];
    for (const [name, requests, tokenFor, [url, child] = [serviceUrl, service], afterSlice] of scenarios) {
      // A slice of its own first, not counted: V8 has not yet compiled a path that has not run (the writes).
      await load('warm-up', url, processes(child), requests, tokenFor, slice);
      await afterSlice?.();
      const baselineParts: Sample[] = [];
      const parts: Sample[] = [];
      for (let i = 0; i < SLICES; i++) {
        baselineParts.push(
          await load(baselineName, baselineUrl, processes(baseline), baselineRequest, undefined, slice),
        );
        parts.push(await load(name, url, processes(child), requests, tokenFor, slice));
        await afterSlice?.();
      }
      baselineSlices.push(...baselineParts);
      results.push({ ...combine(parts), baselineRps: combine(baselineParts).rps });
    }
    const floor = await writeFloor(databaseUrl, server);
    const baselineFigures = combine(baselineSlices);

    // Memory: RSS after 10,000 and after 100,000 requests of the busiest read.
    let seen = 0;
    let rssAt10k = NaN;
    await new Promise<void>((resolve, reject) => {
      const run = autocannon(
        {
          url: serviceUrl,
          method: 'POST',
          connections: CONNECTIONS,
          amount: 100_000,
          headers: { 'content-type': 'application/json' },
          requests: [{ method: 'POST', body: providerKeys }],
          setupClient: (c) =>
            c.setHeaders({
              'content-type': 'application/json',
              authorization: `Bearer ${tokens[Math.floor(Math.random() * ACCOUNTS)]}`,
            }),
        },
        (error) => (error ? reject(asError(error)) : resolve()),
      );
      run.on('response', () => {
        seen += 1;
        if (seen === 10_000) rssAt10k = rssKiB(service.pid!, 'VmRSS');
      });
    });
    const rssAt100k = rssKiB(service.pid!, 'VmRSS');
    const peakRss = rssKiB(service.pid!, 'VmHWM');

    // SIGTERM in the middle of load: in-flight requests complete, the process exits 0.
    const exited = new Promise<number | null>((resolve) => service.on('exit', (code) => resolve(code)));
    const underLoad = autocannon({
      url: serviceUrl,
      method: 'POST',
      connections: CONNECTIONS,
      duration: 4,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[0]}` },
      requests: [{ method: 'POST', body: providerKeys }],
    });
    setTimeout(() => service.kill('SIGTERM'), 1_500);
    const [shutdownLoad, exitCode] = await Promise.all([underLoad, exited]);

    report(
      socket
        ? `MariaDB on this host through its Unix socket (one row over loopback TCP)`
        : 'MariaDB over TCP',
      baselineFigures,
      results,
      floor,
      { rssAt10k, rssAt100k, peakRss },
      {
        exitCode,
        answered: shutdownLoad.requests.total,
        non2xx: shutdownLoad.non2xx,
        errors: shutdownLoad.errors,
      },
    );
  } finally {
    for (const child of children) child.kill('SIGKILL');
    const connection = await createConnection({ uri: SERVER_URL });
    await connection.query(`DROP DATABASE IF EXISTS \`${database}\``);
    await connection.end();
  }
}

function report(
  database: string,
  baseline: Figures,
  results: Measured[],
  floor: Floor,
  memory: { rssAt10k: number; rssAt100k: number; peakRss: number },
  shutdown: { exitCode: number | null; answered: number; non2xx: number; errors: number },
) {
  const mib = (kib: number) => `${(kib / 1024).toFixed(1)} MiB`;
  const ratio = (r: Measured) => r.rps / r.baselineRps;
  const micros = (value: number) => (Number.isFinite(value) ? value.toFixed(0) : '–');
  const row = (r: Figures, baselineRps: string, ratioText: string) =>
    `| ${r.name} | ${r.rps.toFixed(0)} | ${baselineRps} | ${ratioText} | ${+r.p50.toFixed(1)} | ${+r.p99.toFixed(1)} | ${micros(r.serverCpu)} | ${micros(r.databaseCpu)} | ${r.non2xx + r.errors} | ${r.unexpected} |`;
  const rows = [
    row(baseline, '', '1.00'),
    ...results.map((r) => row(r, r.baselineRps.toFixed(0), ratio(r).toFixed(2))),
  ];
  const find = (prefix: string) => results.find((r) => r.name.startsWith(prefix))!;
  const targets = [
    `providerKeys at ${(ratio(find('providerKeys')) * 100).toFixed(0)}% of the baseline's requests per second (target ≥ 50%)`,
    `denied path at ${(ratio(find('denied')) * 100).toFixed(0)}% (target ≥ 80%)`,
    `p99 of the service's scenarios: ${results.map((r) => `${+r.p99.toFixed(1)} ms`).join(', ')} (target < 25 ms at ${CONNECTIONS} connections)`,
  ];
  const cpus = os.cpus();
  const text = [
    `Run by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: ${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}, ${mib(os.totalmem() / 1024)} memory, Node ${process.version}, ${database}; ${CONNECTIONS} connections, ${SECONDS} s per scenario after a warm-up slice of its own. The service runs with NODE_ENV=production and LOG_LEVEL=info (one log line per operation, written to /dev/null), seeded with ${ACCOUNTS} accounts that each hold an OpenAI key; the baseline is a bare Apollo Server 5 answering \`{ __typename }\`, started in the same run. Each scenario runs in ${SLICES} slices of ${SECONDS / SLICES} s, each right after a slice of the baseline, and its ratio is to those baseline slices; requests/s is the slices' mean, p50 and p99 are over all their responses (the baseline row covers all ${results.length * SLICES} baseline slices). CPU is user and system time per request, of the server loaded (the service, or the baseline's own) and of the MariaDB process when it runs on this host. Machines here are shared and noisy: compare ratios and CPU per request, not throughput, across runs.`,
    ``,
    `| scenario | requests/s | baseline in its slices, requests/s | ratio to baseline | p50 ms | p99 ms | server CPU µs/request | MariaDB CPU µs/request | errors + non-2xx | unexpected answers |`,
    `| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |`,
    ...rows,
    ``,
    `Targets: ${targets.join('; ')}.`,
    ``,
    `The write pairs with nothing but the database (the same sequence of statements from ${CONNECTIONS} bare mysql2 clients in the benchmark's process: no HTTP, no GraphQL, no service): ${floor.rps.toFixed(0)} writes/s, p50 ${floor.p50.toFixed(1)} ms, p99 ${floor.p99.toFixed(1)} ms, MariaDB CPU ${micros(floor.databaseCpu)} µs per write, ${floor.errors} errors.`,
    ``,
    `Memory of the service: peak RSS ${mib(memory.peakRss)}; RSS ${mib(memory.rssAt10k)} after 10,000 requests of providerKeys and ${mib(memory.rssAt100k)} after 100,000.`,
    ``,
    `SIGTERM under load: the service exited with code ${shutdown.exitCode}; ${shutdown.answered} requests answered, ${shutdown.non2xx} non-2xx, ${shutdown.errors} connection errors (connections refused once the listener closed).`,
    ``,
  ].join('\n');
  process.stdout.write(`\n${text}`);
  // The figures replace the marked part of docs/benchmarks.md; the notes written around them stay.
  writeFigures('', text);
}

main().catch((error) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
