import crypto from 'node:crypto';
import { Pool, PoolConnection } from 'mysql2';
import { format } from 'mysql2';
import pino from 'pino';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { Logger as TypeOrmLogger } from 'typeorm';
import { MysqlDriver } from 'typeorm/driver/mysql/MysqlDriver';
import { bothParts } from '../src/accounts/account-part';
import { openAppDatabase } from '../src/app/database';
import { createServices } from '../src/app/services';
import { createMembershipReader } from '../src/auth/membership.query';
import { loadConfig } from '../src/config';
import { parseKeyring } from '../src/crypto/keyring';
import { AiProvider } from '../src/providers/ai-provider.enum';
import { AiTask } from '../src/providers/ai-task.enum';
import { KeyHealth } from '../src/providers/key-health.enum';
import { MONITORED_PLANS } from '../src/monitor/key-monitor';
import { ProviderKeyStore } from '../src/provider-keys/provider-key.store';

// bench:scale's EXPLAIN: the service's own code runs each hot path once in this process (membership and
// keys read, resolve, reports, usage flush, audit page, a key added, rotated and removed, /readyz's
// checks, the webhook outbox's claim, keys:rewrap's count, read and write, keys:status), every statement
// it sends is recorded as sent, and MariaDB's EXPLAIN of each is printed once. A table read whole (type
// ALL or index) is marked SCAN, but for keys:status, which counts every key by design.

export interface Plan {
  path: string;
  sql: string;
  rows: { table: string; type: string; key: string | null; rows: number | string; extra: string }[];
  scan: boolean;
}

const SKIP = /^(START TRANSACTION|BEGIN|COMMIT|ROLLBACK|SELECT VERSION\(\)|SELECT DATABASE|SHOW |SET )/i;

/** Tables whose full read is the statement's point (keys:status counts every key). */
const COUNTING_PATHS = new Set(['keys:status']);

export async function explainHotStatements(options: {
  databaseUrl: string;
  env: Record<string, string>;
  /** Versions 1 and 2 hold keys (after the rewrap); 3 is new. */
  masterKeys: string;
  nextMasterKeys: string;
  accounts: number;
}): Promise<Plan[]> {
  const dataSource = await openAppDatabase({ type: 'mysql', url: options.databaseUrl });
  const recorded: { path: string; sql: string }[] = [];
  let path = '';
  let recording = true;
  const record = (sql: string, parameters?: unknown[]) => {
    if (recording && !SKIP.test(sql.trim()))
      recorded.push({ path, sql: format(sql, (parameters ?? []) as never[]) });
  };
  // TypeORM's statements through its logger; the prepared reads (db/prepared.ts) through the pool.
  const logger: TypeOrmLogger = {
    logQuery: (sql, parameters) => record(sql, parameters),
    logQueryError: () => undefined,
    logQuerySlow: () => undefined,
    logSchemaBuild: () => undefined,
    logMigration: () => undefined,
    log: () => undefined,
  };
  Object.assign(dataSource, { logger });
  // Prepared statements (db/prepared.ts) go through a pooled connection's execute: all share a prototype.
  const pool = (dataSource.driver as MysqlDriver).pool as Pool;
  const connection = await new Promise<PoolConnection>((resolve, reject) =>
    pool.getConnection((error, got) => (error ? reject(error) : resolve(got))),
  );
  const prototype = Object.getPrototypeOf(connection) as { execute: (...args: unknown[]) => unknown };
  const execute = prototype.execute;
  prototype.execute = function (this: unknown, sql: string, parameters: unknown[], callback: unknown) {
    record(sql, parameters);
    return execute.call(this, sql, parameters, callback);
  } as typeof execute;
  connection.release();
  try {
    const config = loadConfig({
      ...options.env,
      WEBHOOK_URL: 'http://127.0.0.1:9/hooks',
      OUTBOUND_ALLOWLIST: '127.0.0.1',
      WEBHOOK_SECRET: `whsec_${crypto.randomBytes(32).toString('base64')}`,
    });
    const keyring = parseKeyring(options.masterKeys);
    const silent = pino({ level: 'silent' });
    const wiring = createServices(config, dataSource, keyring, silent, {
      now: () => new Date(),
      usageFlushMs: 3_600_000,
      testLimiter: new RateLimiterMemory({ points: 10, duration: 60 }),
    });
    const { store, settingsStore, services, reports, outbox } = wiring;
    const account = (i: number) => `acct_scale_${String(i).padStart(7, '0')}`;
    const [a, b] = [1, 2].map((n) => Math.floor((options.accounts * n) / 4));
    const run = async (name: string, work: () => Promise<unknown>) => {
      path = name;
      await work();
    };

    await run('membership + keys (every request)', () =>
      createMembershipReader(dataSource, bothParts(store.accountPart, settingsStore.part))(
        `user_scale_${a}`,
        account(a),
      ),
    );
    let resolved: Awaited<ReturnType<typeof services.routes.resolveCredential>> | undefined;
    await run('resolve (internal API)', async () => {
      resolved = await services.routes.resolveCredential(account(a), AiTask.ANALYSIS);
    });
    const key = { id: resolved!.keyId!, version: resolved!.keyVersion! };
    await run('report: transient (internal API)', () =>
      reports.report(
        { accountId: account(a), keyId: key.id, keyVersion: key.version, outcome: KeyHealth.RATE_LIMITED },
        'bench',
      ),
    );
    await run('report: hard failure (internal API)', () =>
      reports.report(
        { accountId: account(a), keyId: key.id, keyVersion: key.version, outcome: KeyHealth.INVALID_KEY },
        'bench',
      ),
    );
    await run('usage flush (every 5 s)', () => services.usage.flush());
    await run('providerKeyEvents page', () => store.events(account(b), 20, 1_000));
    await run('key usage of a key', () => store.usageOf(key.id, '2026-01-01'));
    await run('removeProviderKey', () => store.remove(account(b), AiProvider.MISTRAL, 'user_bench'));
    await run('addProviderKey', () =>
      store.add(
        account(b),
        {
          provider: AiProvider.MISTRAL,
          apiKey: 'bench-mistral-key-0000000000000000',
          endpoint: null,
          deployment: null,
        },
        {
          label: null,
          createdBy: 'user_bench',
          expiresAt: null,
          nextCheckAt: null,
          health: KeyHealth.UNTESTED,
          lastTestedAt: null,
          lastTestMessage: null,
        },
      ),
    );
    const current = (await store.findPublic(account(b), AiProvider.MISTRAL))!;
    await run('rotateProviderKey', () =>
      store.rotate(
        current,
        current.version,
        'bench-mistral-key-1111111111111111',
        {
          endpoint: null,
          deployment: null,
          expiresAt: null,
          nextCheckAt: null,
          health: KeyHealth.UNTESTED,
          lastTestedAt: null,
          lastTestMessage: null,
        },
        'user_bench',
      ),
    );
    await run('/readyz', async () => {
      await store.readiness(keyring.versions);
      await store.readiness([2]); // as with a keyring that lacks version 1: found at the first seek
      await store.storedMasterKeyVersions(); // names the versions missing, when one is
    });
    await run('webhook dispatcher claim', () => outbox!.claim(10, 30_000));
    await run('key monitor claim', async () => {
      const claimed = await store.claimDue(new Date(), 4, 30_000, 'bench', MONITORED_PLANS);
      await store.releaseClaims(claimed, new Date());
    });
    await run('key monitor lag (metrics)', () => store.oldestDue(new Date(), MONITORED_PLANS));
    await run('expiry reminders', () => store.dueExpiries([new Date()], 10));
    const next = new ProviderKeyStore(dataSource, parseKeyring(options.nextMasterKeys));
    await run('keys:rewrap', async () => {
      await next.countBehind();
      await next.writeRewrapBatch(await next.readRewrapBatch(2, '', 5));
    });
    await run('keys:status', () => store.countByMasterKeyVersion());

    recording = false;
    const plans: Plan[] = [];
    const seen = new Set<string>();
    for (const { path: at, sql } of recorded) {
      const shape = sql.replace(/X'[0-9a-f]*'|'[^']*'|\b\d+\b/gi, '?');
      if (seen.has(`${at}\n${shape}`)) continue;
      seen.add(`${at}\n${shape}`);
      type Explained = Record<'table' | 'type' | 'key' | 'Extra', string | null> & { rows: number | null };
      const explained = await dataSource.query<Explained[]>(`EXPLAIN ${sql}`);
      const rows = explained.map((row) => ({
        table: row.table ?? '',
        type: row.type ?? '',
        key: row.key,
        rows: row.rows ?? '',
        extra: row.Extra ?? '',
      }));
      // A derived table of the statement's own values (the rewrap's batch) or a constant lookup is no scan.
      // EXPLAIN INSERT … VALUES shows ALL for the table written: no read. master_key_checks has a row per
      // master key version.
      const scan =
        !COUNTING_PATHS.has(at) &&
        !/^INSERT INTO \S+ ?\(.*\) VALUES/is.test(sql) &&
        rows.some(
          (row) =>
            (row.type === 'ALL' || row.type === 'index') &&
            !row.table.startsWith('<') &&
            row.table !== 'master_key_checks',
        );
      plans.push({ path: at, sql: shape.length > 160 ? `${shape.slice(0, 157)}…` : shape, rows, scan });
    }
    return plans;
  } finally {
    prototype.execute = execute;
    await dataSource.destroy();
  }
}

export function printPlans(plans: readonly Plan[]): string {
  const lines = [
    '| path | statement | EXPLAIN: table type key rows |',
    '| --- | --- | --- |',
    ...plans.map(
      (plan) =>
        `| ${plan.path} | \`${plan.sql.replace(/\s+/g, ' ').replace(/\|/g, '\\|')}\` | ${plan.rows
          .map(
            (row) =>
              `${row.table} ${row.type} ${row.key ?? '—'} ${row.rows}${row.extra ? ` (${row.extra})` : ''}`,
          )
          .join('; ')}${plan.scan ? ' **SCAN**' : ''} |`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}
