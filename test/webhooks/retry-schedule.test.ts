import { DEFAULT_WEBHOOK_TIMING, nextAttemptAt } from '../../src/webhooks/webhook-dispatcher';

// The contract's retry schedule: growing delays from about 30 s up to 6 h, for 24 h in all.

describe('the webhook retry schedule', () => {
  it('tries 10 times: after 30 s, 2 min, 8 min, 32 min, 2 h 8 min, then every 6 h, the last 24 h after the first', () => {
    const first = new Date('2025-01-01T00:00:00Z');
    const attempts = [first];
    for (let failed = 1; ; failed++) {
      const next = nextAttemptAt(DEFAULT_WEBHOOK_TIMING, failed, first, attempts.at(-1)!);
      if (!next) break;
      attempts.push(next);
    }
    const minutesAfterFirst = attempts.map((at) => (at.getTime() - first.getTime()) / 60_000);
    expect(minutesAfterFirst).toEqual([0, 0.5, 2.5, 10.5, 42.5, 170.5, 530.5, 890.5, 1250.5, 1440]);
    const delays = minutesAfterFirst.slice(1).map((at, i) => at - minutesAfterFirst[i]);
    expect(Math.max(...delays)).toBe(360); // never more than 6 h between two attempts
  });
});
