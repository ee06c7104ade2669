import http from 'node:http';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import type { MysqlDriver } from 'typeorm/driver/mysql/MysqlDriver';
import { dialectOf } from '../db/dialect';
import { WebhookOutbox } from '../webhooks/webhook-outbox.store';

// What operators scrape (GET /metrics, Prometheus text format): a registry of this service's own, never
// prom-client's global default, so that two apps in one process (the tests) or a library's metrics never
// mix in. Every label value comes from a bounded set the code defines (operation names the document
// defines, capped; outcome codes; health values): never an account id, a key or other client input.

/** Distinct operation names kept as labels; later ones count as "other", so a client cannot grow the set. */
const MAX_OPERATION_NAMES = 100;

export interface MetricsOptions {
  dataSource: DataSource;
  outbox: WebhookOutbox | undefined;
  /** The key monitor's lag (age of the oldest due key, in seconds), read per scrape; none: no gauge. */
  monitorLagSeconds?: () => Promise<number | undefined> | number | undefined;
}

export class Metrics {
  readonly registry = new Registry();
  private readonly operationNames = new Set<string>();

  private readonly operations = new Counter({
    name: 'byok_graphql_operations_total',
    help: 'GraphQL operations by operation name and outcome code (OK or the first error code).',
    labelNames: ['operation', 'outcome'],
    registers: [this.registry],
  });
  private readonly operationSeconds = new Histogram({
    name: 'byok_graphql_operation_duration_seconds',
    help: 'GraphQL operation latency, from the request to the response, by operation name.',
    labelNames: ['operation'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  private readonly internalRequests = new Counter({
    name: 'byok_credential_requests_total',
    help: 'Internal credential API calls: route resolve or report; outcome: the route status served (resolve), the reported outcome (report), or the error code.',
    labelNames: ['route', 'outcome'],
    registers: [this.registry],
  });
  private readonly connectionTests = new Counter({
    name: 'byok_connection_tests_total',
    help: 'Connection tests run for admins (candidate, stored or verify-on-save), by the health found.',
    labelNames: ['health'],
    registers: [this.registry],
  });
  private readonly testRefusals = new Counter({
    name: 'byok_connection_test_refusals_total',
    help: 'Connection tests refused before running: rate_limited (TEST_RATE_LIMIT_PER_MINUTE) or store_unavailable (the rate-limit store did not answer).',
    labelNames: ['reason'],
    registers: [this.registry],
  });

  constructor(options: MetricsOptions) {
    const { dataSource, outbox, monitorLagSeconds } = options;
    const registers = [this.registry];
    new Gauge({
      name: 'byok_webhook_outbox_events',
      help: 'Webhook events in the outbox: pending (to deliver or retry) and failed (given up after 24 h, kept).',
      labelNames: ['status'],
      registers,
      async collect() {
        const rows = outbox ? await outbox.status() : [];
        for (const status of ['pending', 'failed'] as const)
          this.set({ status }, rows.find((row) => row.status === status)?.count ?? 0);
      },
    });
    new Gauge({
      name: 'byok_db_pool_connections',
      help: 'Database pool connections: in_use (lent to a query) and open (in use or idle). MySQL only.',
      labelNames: ['state'],
      registers,
      collect() {
        const pool = poolOf(dataSource);
        if (!pool) return;
        this.set({ state: 'open' }, pool._allConnections.length);
        this.set({ state: 'in_use' }, pool._allConnections.length - pool._freeConnections.length);
      },
    });
    // Only with a monitor to ask: a lag of 0 from a process that runs none would read as "all tested".
    if (monitorLagSeconds)
      new Gauge({
        name: 'byok_monitor_lag_seconds',
        help: 'Age in seconds of the oldest stored key whose monitor test is due (0: none is late).',
        registers,
        async collect() {
          this.set((await monitorLagSeconds()) ?? 0);
        },
      });
  }

  /** The label for an operation: its name as the document defines it, bounded in length and count. */
  private operationLabel(name: string | null | undefined): string {
    if (!name) return 'unknown'; // an anonymous operation, or none resolved
    // Operation names are GraphQL names; a long one may be a key pasted there, so it never becomes a label.
    if (!/^[_A-Za-z][_0-9A-Za-z]{0,63}$/.test(name) || name.length >= 20) return 'other';
    if (this.operationNames.has(name)) return name;
    if (this.operationNames.size >= MAX_OPERATION_NAMES) return 'other';
    this.operationNames.add(name);
    return name;
  }

  /** `name`: the operation the document defines and the request ran (undefined when none was resolved). */
  graphqlOperation(name: string | null | undefined, outcome: string, seconds: number): void {
    const operation = this.operationLabel(name);
    this.operations.inc({ operation, outcome });
    this.operationSeconds.observe({ operation }, seconds);
  }

  credentialRequest(route: 'resolve' | 'report', outcome: string): void {
    this.internalRequests.inc({ route, outcome });
  }

  connectionTested(health: string): void {
    this.connectionTests.inc({ health });
  }

  connectionTestRefused(reason: 'rate_limited' | 'store_unavailable'): void {
    this.testRefusals.inc({ reason });
  }

  /** Whether the request is GET /metrics, which `serve` answers. */
  static isScrape(req: http.IncomingMessage): boolean {
    return /^\/metrics(?:\?|$)/.test(req.url ?? '') && (req.method === 'GET' || req.method === 'HEAD');
  }

  /** GET /metrics; anything else is the caller's (false: not handled). */
  async serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<boolean> {
    if (!Metrics.isScrape(req)) return false;
    const text = await this.registry.metrics();
    res.writeHead(200, { 'content-type': this.registry.contentType, 'cache-control': 'no-store' }).end(text);
    return true;
  }
}

interface Mysql2PoolInternals {
  _allConnections: { length: number };
  _freeConnections: { length: number };
}

/** mysql2 keeps its pool's counts in these fields (it has no public accessor); SQLite has no pool. */
function poolOf(dataSource: DataSource): Mysql2PoolInternals | undefined {
  if (dialectOf(dataSource) === 'sqlite' || !dataSource.isInitialized) return undefined;
  const pool = (dataSource.driver as MysqlDriver).pool as Partial<Mysql2PoolInternals> | undefined;
  return pool?._allConnections && pool._freeConnections ? (pool as Mysql2PoolInternals) : undefined;
}
