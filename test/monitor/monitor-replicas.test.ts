import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Account } from '../../src/accounts/account.entity';
import { Membership } from '../../src/accounts/membership.entity';
import { Plan } from '../../src/accounts/plan.enum';
import { Role } from '../../src/accounts/role.enum';
import { adapterFor } from '../../src/providers/adapters';
import { AiProvider } from '../../src/providers/ai-provider.enum';
import { AddProviderKeyDocument } from '../generated/graphql';
import { makeKey } from '../support/fake-providers';
import { type ServiceProcess, startServiceProcess } from '../support/processes';
import { startTestApp, TEST_JWT_SECRET, type TestApp } from '../support/test-app';

// Two service processes on one MariaDB share the monitoring of 50 keys: over three intervals each key
// is tested exactly three times in all, never by both at once (counted where the tests arrive, at a
// provider that answers in 200 ms and records who is asking); a process killed mid-test loses its
// claims when they lapse, and the other one tests those keys.

const KEYS = 50;
const INTERVAL_HOURS = 0.004; // 14.4 s
const INTERVAL_MS = INTERVAL_HOURS * 3_600_000;
const PROVIDER_TIMEOUT_MS = 2_000;
/** What a claim holds for (src/monitor/key-monitor.ts: twice the provider deadline, pacing, 5 s). */
const LEASE_MS = 2 * PROVIDER_TIMEOUT_MS + 4 * 100 + 5_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** OpenAI's model list, answered after 200 ms, recording when each key asked and how many at once. */
class CountingProvider {
  readonly arrivals = new Map<string, number[]>();
  readonly inFlight = new Map<string, number>();
  /** The most requests with one key at the same time. */
  maxAtOnce = 0;
  url = '';
  private readonly server = http.createServer((req, res) => {
    const key = String(req.headers.authorization ?? '').replace(/^Bearer /, '');
    this.arrivals.set(key, [...(this.arrivals.get(key) ?? []), Date.now()]);
    const now = (this.inFlight.get(key) ?? 0) + 1;
    this.inFlight.set(key, now);
    this.maxAtOnce = Math.max(this.maxAtOnce, now);
    setTimeout(() => {
      this.inFlight.set(key, (this.inFlight.get(key) ?? 1) - 1);
      const ids = Object.values(adapterFor(AiProvider.OPENAI).models);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ object: 'list', data: ids.map((id) => ({ id, object: 'model' })) }));
    }, 200);
  });

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  get busy(): number {
    return [...this.inFlight.values()].reduce((sum, count) => sum + count, 0);
  }
  reset(): void {
    this.arrivals.clear();
    this.maxAtOnce = 0;
  }
  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

describe('The key monitor in two processes on one MariaDB', () => {
  jest.setTimeout(240_000);
  const provider = new CountingProvider();
  let setup: TestApp;
  const processes: ServiceProcess[] = [];
  const keys: string[] = [];

  beforeAll(async () => {
    await provider.start();
    const env = {
      OPENAI_BASE_URL: `${provider.url}/v1`,
      OUTBOUND_ALLOWLIST: provider.url.replace('http://', ''),
      KEY_MONITOR_INTERVAL_HOURS: String(INTERVAL_HOURS),
      PROVIDER_TIMEOUT_MS: String(PROVIDER_TIMEOUT_MS),
    };
    // The keys are stored through GraphQL by a service whose monitor is off, on GROWTH accounts.
    setup = await startTestApp('mariadb', { env: { ...env, KEY_MONITOR: 'off' } });
    const ids = Array.from({ length: KEYS }, (_, i) => `acct_load_${i}`);
    await setup.dataSource
      .getRepository(Account)
      .insert(ids.map((id) => ({ id, name: id, plan: Plan.GROWTH })));
    await setup.dataSource
      .getRepository(Membership)
      .insert(ids.map((accountId) => ({ userId: `admin_${accountId}`, accountId, role: Role.ADMIN })));
    for (const [i, accountId] of ids.entries()) {
      // makeKey's padding repeats every 10 seeds: the last digits make each key its own.
      const apiKey = makeKey(AiProvider.OPENAI, 'VALID', i).slice(0, -3) + String(i).padStart(3, '0');
      const token = await setup.token(`admin_${accountId}`, accountId);
      const added = await setup.gql(
        AddProviderKeyDocument,
        { input: { provider: 'OPENAI', apiKey, verify: false } },
        token,
      );
      expect(added.errors).toBeUndefined();
      keys.push(apiKey);
    }
    // Not due until both processes run.
    await setup.dataSource.query("UPDATE provider_keys SET next_check_at = '2100-01-01 00:00:00'");
    const processEnv = {
      ...env,
      DATABASE_URL: setup.env.DATABASE_URL!,
      DATA_DIR: setup.dataDir, // the same generated master key
      AUTH_JWT_SECRET: TEST_JWT_SECRET,
      LOG_LEVEL: 'info',
    };
    processes.push(await startServiceProcess(processEnv), await startServiceProcess(processEnv));
  });
  afterAll(async () => {
    for (const service of processes) {
      if (service.child.exitCode === null && service.child.signalCode === null) service.child.kill('SIGTERM');
      await service.exited;
    }
    await setup?.stop();
    await provider.close();
  });

  const claimantOf = (service: ServiceProcess) =>
    /"claimant":"([^"]+)","msg":"key monitor started"/.exec(service.output())![1];
  const testsLogged = (service: ServiceProcess) =>
    service
      .output()
      .split('\n')
      .filter((line) => line.includes('"msg":"key monitor: tested a key"')).length;

  it('tests each key exactly three times over three intervals, never twice at once, sharing the work', async () => {
    provider.reset();
    await setup.dataSource.query('UPDATE provider_keys SET next_check_at = NULL');
    // Each key's first test, then two and a half intervals: the next two fall within it (each 0.9 to
    // 1.1 intervals on, picked up within a tenth), the fourth (2.7 intervals on at the earliest) does not.
    await sleep(2.5 * INTERVAL_MS + 6_000);
    const counts = keys.map((key) => {
      const arrivals = provider.arrivals.get(key) ?? [];
      if (arrivals.length === 0) return 0;
      return arrivals.filter((at) => at <= arrivals[0] + 2.5 * INTERVAL_MS).length;
    });
    expect(counts).toEqual(keys.map(() => 3));
    expect(provider.maxAtOnce).toBe(1);
    // Both processes took part.
    expect(processes.map(testsLogged).every((count) => count > 0)).toBe(true);
  });

  it('takes over the claims of a process killed mid-test', async () => {
    const [survivor, victim] = processes;
    const victimClaims = async () =>
      (
        await setup.dataSource.query<{ id: string }[]>('SELECT id FROM provider_keys WHERE claimed_by = ?', [
          claimantOf(victim),
        ])
      ).map((row) => row.id);
    // Every key due at once: both processes claim, and the victim is killed while it holds claims.
    await setup.dataSource.query('UPDATE provider_keys SET next_check_at = NULL');
    let held: string[] = [];
    for (let i = 0; i < 200 && held.length === 0; i++) {
      held = await victimClaims();
      if (held.length === 0) await sleep(20);
    }
    expect(held.length).toBeGreaterThan(0);
    victim.child.kill('SIGKILL');
    await victim.exited;
    const killedAt = new Date();

    // After the lease, the survivor claims and tests them: the claims are gone and each has a new test.
    const deadline = Date.now() + LEASE_MS + INTERVAL_MS;
    let pending = held;
    while (pending.length && Date.now() < deadline) {
      await sleep(250);
      const rows = await setup.dataSource.query<
        { id: string; claimed_by: string | null; last_tested_at: Date | null }[]
      >(
        `SELECT id, claimed_by, last_tested_at FROM provider_keys WHERE id IN (${held.map(() => '?').join(', ')})`,
        held,
      );
      pending = rows
        .filter(
          (row) =>
            row.claimed_by === claimantOf(victim) ||
            !row.last_tested_at ||
            row.last_tested_at < new Date(killedAt.getTime() - 1_000),
        )
        .map((row) => row.id);
    }
    expect(pending).toEqual([]);
    expect(provider.maxAtOnce).toBe(1);
    expect(testsLogged(survivor)).toBeGreaterThan(0);
  });
});
