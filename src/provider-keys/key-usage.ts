import { Logger } from 'pino';
import type { ProviderKeyStore, UsageDay } from './provider-key.store';

// lastUsedAt and usage(days), counted in memory and written in the background: a resolve must not cost a
// write, and a busy pipeline resolves many times a second. Counts go out at least every `intervalMs` and
// on close, in three statements whatever their number; a crash loses at most those seconds of counts.
// Replicas each count their own and the upserts add up.

export const utcDay = (date: Date): string => date.toISOString().slice(0, 10);

const toTheMinute = (date: Date) => new Date(Math.floor(date.getTime() / 60_000) * 60_000);

export class KeyUsage {
  private days = new Map<string, UsageDay>();
  private lastUsed = new Map<string, Date>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: {
      store: Pick<ProviderKeyStore, 'addUsage'>;
      now(): Date;
      logger: Pick<Logger, 'warn'>;
      intervalMs: number;
    },
  ) {}

  /** A key was handed to a pipeline. */
  resolved(key: { id: string; accountId: string }): void {
    const now = this.deps.now();
    this.count(key, now).resolves += 1;
    this.moveLastUsed(key.id, toTheMinute(now));
  }

  /** A pipeline reported a failure of a call made with the key. */
  failed(key: { id: string; accountId: string }): void {
    this.count(key, this.deps.now()).failures += 1;
  }

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.deps.intervalMs);
    this.timer.unref();
  }

  /** Writes what is counted so far; counts that fail to be written are kept for the next flush. */
  flush(): Promise<void> {
    // One flush at a time, so that counts taken by one are never written twice by the next.
    this.flushing = this.flushing.then(() => this.write());
    return this.flushing;
  }

  /** Stops the timer and writes what is pending (SIGTERM, tests). */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  private moveLastUsed(keyId: string, at: Date): void {
    const known = this.lastUsed.get(keyId);
    if (!known || known < at) this.lastUsed.set(keyId, at);
  }

  /** The UTC day of `now`, remembered while it lasts: every resolve counts on it. */
  private today = { start: NaN, day: '' };

  private dayOf(now: Date): string {
    const start = Math.floor(now.getTime() / 86_400_000);
    if (start !== this.today.start) this.today = { start, day: utcDay(now) };
    return this.today.day;
  }

  private count(key: { id: string; accountId: string }, now: Date): UsageDay {
    const day = this.dayOf(now);
    const slot = `${key.id} ${day}`;
    let entry = this.days.get(slot);
    if (!entry)
      this.days.set(
        slot,
        (entry = { keyId: key.id, accountId: key.accountId, day, resolves: 0, failures: 0 }),
      );
    return entry;
  }

  private async write(): Promise<void> {
    if (this.days.size === 0 && this.lastUsed.size === 0) return;
    const days = this.days;
    const lastUsed = this.lastUsed;
    this.days = new Map();
    this.lastUsed = new Map();
    try {
      await this.deps.store.addUsage([...days.values()], lastUsed);
    } catch (error) {
      this.deps.logger.warn(
        { err: error, keys: lastUsed.size },
        'could not write key usage; keeping it for the next flush',
      );
      for (const [slot, entry] of days) {
        const now = this.days.get(slot);
        if (now) {
          now.resolves += entry.resolves;
          now.failures += entry.failures;
        } else this.days.set(slot, entry);
      }
      for (const [id, at] of lastUsed) this.moveLastUsed(id, at);
    }
  }
}
