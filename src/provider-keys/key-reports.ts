import { healthMessage } from '../providers/health-message';
import { isHardFailure, KeyHealth } from '../providers/key-health.enum';
import { KeyUsage } from './key-usage';
import type { ProviderKeyStore } from './provider-key.store';

// What a pipeline's provider answered a call made with a key, as the internal API reports it. A hard
// failure sets the key's health at once, so routing skips it from the next call; transient failures
// cool the key down after three within a minute; OK changes nothing. A report for another key version
// than the stored one (the key was rotated since), or for a key that no longer exists, changes nothing:
// a late report must never mark a rotated key. Every report that is not OK counts as a failure.

export const REPORT_OUTCOMES = [
  'OK',
  KeyHealth.INVALID_KEY,
  KeyHealth.INSUFFICIENT_PERMISSIONS,
  KeyHealth.QUOTA_EXCEEDED,
  KeyHealth.RATE_LIMITED,
  KeyHealth.PROVIDER_UNREACHABLE,
  KeyHealth.PROVIDER_ERROR,
] as const;
export type ReportOutcome = (typeof REPORT_OUTCOMES)[number];

export interface KeyReport {
  accountId: string;
  /** null: the built-in allocation served; accepted, and changes nothing here. */
  keyId: string | null;
  keyVersion: number | null;
  outcome: ReportOutcome;
}

/** Three transient failures within a minute cool a key down for a minute (contract). */
export const COOLDOWN = { threshold: 3, windowMs: 60_000, durationMs: 60_000 } as const;

export class KeyReports {
  constructor(
    private readonly deps: {
      store: Pick<ProviderKeyStore, 'reportHealth' | 'reportTransient'>;
      usage: Pick<KeyUsage, 'failed'>;
      now(): Date;
    },
  ) {}

  /**
   * `service`: the reporting service's name, from its token (the audit actor is `service:<name>`).
   * Whether the report was about a key the account holds at that version (else it changed nothing).
   */
  async report(report: KeyReport, service: string): Promise<boolean> {
    if (report.keyId === null || report.keyVersion === null || report.outcome === 'OK') return false;
    const key = { accountId: report.accountId, keyId: report.keyId, keyVersion: report.keyVersion };
    const health = report.outcome;
    let effect;
    if (isHardFailure(health)) {
      effect = await this.deps.store.reportHealth(
        key,
        health,
        (provider) => healthMessage(provider, health),
        `service:${service}`,
      );
    } else {
      const now = this.deps.now();
      const coolingDownUntil = new Date(now.getTime() + COOLDOWN.durationMs);
      effect = await this.deps.store.reportTransient(key, {
        now,
        windowMs: COOLDOWN.windowMs,
        threshold: COOLDOWN.threshold,
        coolingDownUntil,
      });
    }
    if (effect === 'stale') return false;
    this.deps.usage.failed({ id: key.keyId, accountId: key.accountId });
    return true;
  }
}
