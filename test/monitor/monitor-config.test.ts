import { loadConfig } from '../../src/config';
import { monitorTiming, nextCheckAfter } from '../../src/monitor/key-monitor';
import { refusal } from '../support/config-refusal';

// KEY_MONITOR, KEY_MONITOR_INTERVAL_HOURS and KEY_MONITOR_CONCURRENCY as an operator sets them: what
// start-up accepts, the one line it answers otherwise, and the schedule that follows from them.

describe('key monitor configuration', () => {
  it('is on by default: about every 24 hours, 4 tests at once', () => {
    expect(loadConfig({}).monitor).toEqual({ enabled: true, intervalMs: 86_400_000, concurrency: 4 });
  });

  it('takes KEY_MONITOR=off, fractional hours and a concurrency', () => {
    const env = { KEY_MONITOR: 'off', KEY_MONITOR_INTERVAL_HOURS: '0.001', KEY_MONITOR_CONCURRENCY: '16' };
    expect(loadConfig(env).monitor).toEqual({ enabled: false, intervalMs: 3_600, concurrency: 16 });
    expect(loadConfig({ KEY_MONITOR_INTERVAL_HOURS: '.5' }).monitor.intervalMs).toBe(1_800_000);
  });

  it.each([
    [{ KEY_MONITOR: 'no' }, /^KEY_MONITOR: expected on or off, got "no"$/],
    [{ KEY_MONITOR_INTERVAL_HOURS: '0' }, /^KEY_MONITOR_INTERVAL_HOURS: expected hours from 0.0001 to 8760/],
    [{ KEY_MONITOR_INTERVAL_HOURS: '1h' }, /^KEY_MONITOR_INTERVAL_HOURS: .*got "1h"$/],
    [{ KEY_MONITOR_INTERVAL_HOURS: '-2' }, /^KEY_MONITOR_INTERVAL_HOURS: /],
    [
      { KEY_MONITOR_CONCURRENCY: '0' },
      /^KEY_MONITOR_CONCURRENCY: expected a whole number from 1 to 100, got "0"$/,
    ],
  ])('%j is refused with one line naming the variable', (env, expected) => {
    expect(refusal(env)).toMatch(expected);
  });

  it('looks for due keys every tenth of the interval, at most every minute, and spreads tests ±10%', () => {
    const daily = monitorTiming(loadConfig({}).monitor, 10_000);
    expect(daily).toMatchObject({ pollMs: 60_000, concurrency: 4 });
    expect(daily.leaseMs).toBeGreaterThan(2 * 10_000);
    expect(monitorTiming(loadConfig({ KEY_MONITOR_INTERVAL_HOURS: '0.001' }).monitor, 2_000).pollMs).toBe(
      360,
    );
    const now = new Date('2026-01-01T00:00:00.000Z');
    const hour = 3_600_000;
    expect(nextCheckAfter(now, hour, () => 0).toISOString()).toBe('2026-01-01T00:54:00.000Z');
    expect(nextCheckAfter(now, hour, () => 0.5).toISOString()).toBe('2026-01-01T01:00:00.000Z');
    expect(nextCheckAfter(now, hour, () => 0.999999).getTime()).toBeLessThanOrEqual(
      now.getTime() + 1.1 * hour,
    );
  });
});
