import crypto from 'node:crypto';
import os from 'node:os';
import { Plan, planAllowsByok } from '../accounts/plan.enum';
import type { MonitorConfig } from '../config';
import type { Logger } from '../logger';
import type { AiProvider } from '../providers/ai-provider.enum';
import type { ConnectionTester } from '../providers/connection-tester';
import { type ClaimedKey, type ProviderKeyStore, testedColumns } from '../provider-keys/provider-key.store';

// The key monitor: every stored key of a GROWTH+ account is re-tested about every interval with the same
// token-free test an admin runs (never the deep, billed one, and outside TEST_RATE_LIMIT_PER_MINUTE), so
// that a key revoked or emptied at the provider leaves routing before an interview meets it. Claims live
// in the database (ProviderKeyStore.claimDue), so with any number of replicas each key is tested by one
// at a time, and a replica that dies loses its claims when they lapse. Per process: at most
// `concurrency` tests at once, and starts to one provider at least `paceMs` apart, so that a backlog
// (the monitor just turned on, a replica back after a pause) never reaches a provider as a burst.

export interface MonitorTiming {
  intervalMs: number;
  concurrency: number;
  /** How often to look for due keys when none were due: a tenth of the interval, at most 60 s. */
  pollMs: number;
  /** How long a claim holds: longer than any test (the provider deadline), pacing included. */
  leaseMs: number;
  /** The least time between two test starts to one provider, per process. */
  paceMs: number;
}

const MAX_POLL_MS = 60_000;
const PACE_MS = 100;

export function monitorTiming(config: MonitorConfig, providerTimeoutMs: number): MonitorTiming {
  const { intervalMs, concurrency } = config;
  return {
    intervalMs,
    concurrency,
    pollMs: Math.min(Math.round(intervalMs / 10), MAX_POLL_MS),
    leaseMs: 2 * providerTimeoutMs + concurrency * PACE_MS + 5_000,
    paceMs: PACE_MS,
  };
}

/**
 * The next test: one interval on, spread ±10% so that keys stored together are not tested together.
 * Kept to the second, as MySQL's datetime column holds it, so an answer shows what is stored.
 */
export function nextCheckAfter(now: Date, intervalMs: number, random: () => number = Math.random): Date {
  const at = now.getTime() + Math.round(intervalMs * (0.9 + 0.2 * random()));
  return new Date(Math.floor(at / 1000) * 1000);
}

/** The plans whose keys are tested: those that allow BYOK. */
export const MONITORED_PLANS: readonly Plan[] = Object.values(Plan).filter(planAllowsByok);

export interface KeyMonitorDeps {
  store: Pick<ProviderKeyStore, 'claimDue' | 'recordMonitorTest' | 'releaseClaims' | 'open' | 'oldestDue'>;
  tester: Pick<ConnectionTester, 'test'>;
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  now: () => Date;
  timing: MonitorTiming;
}

export class KeyMonitor {
  /** Names this process in claimed_by: host, pid and a random part (a restarted pid is another claimant). */
  readonly claimant = `${os.hostname().slice(0, 40)}:${process.pid}:${crypto.randomBytes(4).toString('hex')}`;
  private readonly active = new Set<Promise<void>>();
  private readonly nextStart = new Map<AiProvider, number>();
  /** Wakes tests waiting for their provider's pace when the monitor stops. */
  private readonly sleepers = new Set<() => void>();
  private timer: NodeJS.Timeout | undefined;
  /** The claiming under way, if any (stop waits for it, so that no claim is left behind). */
  private filling: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly deps: KeyMonitorDeps) {}

  start(): void {
    this.schedule(0);
  }

  /** Claims nothing more; tests under way finish (within the provider deadline), those not started are given back. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    for (const wake of this.sleepers) wake();
    await this.filling;
    while (this.active.size) await Promise.all([...this.active]);
  }

  /** How late the most overdue key is, in seconds (0: none is late): the byok_monitor_lag_seconds gauge. */
  async lagSeconds(): Promise<number> {
    const now = this.deps.now();
    const due = await this.deps.store.oldestDue(now, MONITORED_PLANS);
    return due ? Math.max(0, (now.getTime() - due.getTime()) / 1000) : 0;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.fill(), delayMs);
    this.timer.unref();
  }

  /** Claims due keys into the free slots until none are due, then looks again after pollMs. */
  private fill(): Promise<void> {
    this.filling ??= this.claimRounds().finally(() => (this.filling = undefined));
    return this.filling;
  }

  private async claimRounds(): Promise<void> {
    // Bounded: each round fills every free slot, or ends.
    for (let round = 0; round <= this.deps.timing.concurrency && !this.stopped; round++) {
      const free = this.deps.timing.concurrency - this.active.size;
      if (free <= 0) return; // a test that finishes calls fill again
      const claimed = await this.claim(free);
      for (const key of claimed) this.launch(key);
      if (claimed.length < free) return this.schedule(this.deps.timing.pollMs);
    }
  }

  private async claim(limit: number): Promise<ClaimedKey[]> {
    const { store, timing, now, logger } = this.deps;
    try {
      const claimed = await store.claimDue(now(), limit, timing.leaseMs, this.claimant, MONITORED_PLANS);
      if (!this.stopped) return claimed;
      await store.releaseClaims(claimed, now()); // stopped meanwhile: else they lapse with the lease
    } catch (error) {
      logger.warn({ err: error }, 'key monitor: could not claim due keys; trying again shortly');
    }
    return [];
  }

  private launch(key: ClaimedKey): void {
    const run: Promise<void> = this.test(key)
      .catch((error: unknown) => {
        // The claim lapses with its lease and another round tests the key.
        this.deps.logger.error({ err: error, keyId: key.id }, 'key monitor: a test failed to run');
      })
      .finally(() => {
        this.active.delete(run);
        void this.fill();
      });
    this.active.add(run);
  }

  private async test(key: ClaimedKey): Promise<void> {
    const { store, tester, logger, now, timing } = this.deps;
    await this.paced(key.provider);
    if (this.stopped) return store.releaseClaims([key], now());
    const started = performance.now();
    let apiKey: string;
    try {
      apiKey = store.open(key);
    } catch (error) {
      // Nothing to test with (a master key version the keyring lacks): keys:status and /readyz say so.
      logger.warn(
        { provider: key.provider, accountId: key.accountId, keyId: key.id, err: error },
        'key monitor: cannot open the key; not tested',
      );
      return store.releaseClaims([key], nextCheckAfter(now(), timing.intervalMs));
    }
    const { provider, endpoint, deployment } = key;
    const result = await tester.test({ provider, apiKey, endpoint, deployment });
    const recorded = await store.recordMonitorTest(
      key,
      testedColumns(result),
      nextCheckAfter(now(), timing.intervalMs),
    );
    logger.info(
      {
        provider,
        accountId: key.accountId,
        keyId: key.id,
        health: result.health,
        durationMs: Math.round(performance.now() - started),
        // false: rotated, removed or taken over meanwhile, so the result was not kept
        recorded,
      },
      'key monitor: tested a key',
    );
  }

  /** Waits for the provider's next start slot (reserving it), or until the monitor stops. */
  private async paced(provider: AiProvider): Promise<void> {
    const at = Date.now();
    const start = Math.max(at, this.nextStart.get(provider) ?? 0);
    this.nextStart.set(provider, start + this.deps.timing.paceMs);
    if (start > at) await this.sleep(start - at);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }
}
