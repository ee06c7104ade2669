import type { Logger } from '../logger';
import { PollingLoop } from '../polling-loop';
import type { ExpiringKey, ProviderKeyStore } from '../provider-keys/provider-key.store';

// Expiry reminders (contract "Expiry"): provider_key.expiring 14 days and 1 day before a key's
// expiresAt, provider_key.expired then, each once per key and expiry. The stage sent is kept on the key
// (expiry_notified, reset when expiresAt changes), and each reminder is written in the transaction that
// moves the stage on, only while the stage is still as read: with any number of replicas, once. A key
// first seen late (stored with an expiry 10 hours away, or the service down for a while) gets the latest
// reminder that applies, not the ones it missed.

const DAY_MS = 86_400_000;
/** The reminders in order; stage i + 1 is sent from `beforeMs` before the expiry. */
const STAGES = [
  { beforeMs: 14 * DAY_MS, daysBefore: 14 },
  { beforeMs: DAY_MS, daysBefore: 1 },
  { beforeMs: 0, daysBefore: 0 },
] as const;
const EXPIRED = STAGES.length;
const BATCH = 100;

export interface ExpiryRemindersDeps {
  store: Pick<ProviderKeyStore, 'dueExpiries' | 'recordExpiryNotice'>;
  logger: Pick<Logger, 'info' | 'warn'>;
  now: () => Date;
  pollMs: number;
}

export class ExpiryReminders {
  private readonly loop: PollingLoop;

  constructor(private readonly deps: ExpiryRemindersDeps) {
    this.loop = new PollingLoop(
      () => this.run(),
      deps.pollMs,
      (error) => deps.logger.warn({ err: error }, 'expiry reminders: a sweep failed; trying again shortly'),
    );
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** One batch of due reminders; true when it was full (more may be due). */
  private async run(): Promise<boolean> {
    const now = this.deps.now();
    const bounds = STAGES.map((stage) => new Date(now.getTime() + stage.beforeMs));
    const due = await this.deps.store.dueExpiries(bounds, BATCH);
    for (const key of due) {
      if (this.loop.stopped) break;
      await this.remind(key, now);
    }
    return due.length === BATCH;
  }

  private async remind(key: ExpiringKey, now: Date): Promise<void> {
    const left = key.expiresAt.getTime() - now.getTime();
    // The latest stage reached: 3 expired, 2 within a day, 1 within 14 days.
    const stage = EXPIRED - [...STAGES].reverse().findIndex((candidate) => left <= candidate.beforeMs);
    if (stage > EXPIRED || stage <= key.expiryNotified) return;
    const expired = stage === EXPIRED;
    const expiresAt = key.expiresAt.toISOString();
    const sent = await this.deps.store.recordExpiryNotice(
      key,
      stage,
      expired ? 'provider_key.expired' : 'provider_key.expiring',
      expired ? { expiresAt } : { expiresAt, daysBefore: STAGES[stage - 1].daysBefore },
      expired,
    );
    if (sent) {
      this.deps.logger.info(
        { provider: key.provider, accountId: key.accountId, keyId: key.id, stage, expiresAt },
        expired ? 'expiry reminders: a key expired' : 'expiry reminders: a key expires soon',
      );
    }
  }
}
