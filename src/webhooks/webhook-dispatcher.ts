import { Webhook } from 'standardwebhooks';
import { Agent, request } from 'undici';
import type { Logger } from '../logger';
import { PollingLoop } from '../polling-loop';
import type { ClaimedDelivery, WebhookOutbox } from './webhook-outbox.store';

// Delivers the outbox to the platform: claims due events, POSTs each signed by the Standard Webhooks
// scheme, deletes it on a 2xx and otherwise tries again later, with growing delays, for 24 hours after
// its first attempt; then it is kept as failed and logged. At least once: a crash between the POST and
// the acknowledgement delivers the event again (same webhook-id), so receivers deduplicate by it.
// The URL is the operator's, so the outbound address policy does not apply; redirects are never
// followed all the same (an answer that moves the endpoint is a misconfiguration, not an address).

export interface WebhookTiming {
  /** How often an idle dispatcher looks for due events. */
  pollMs: number;
  /** Events claimed (and POSTed side by side) per round. */
  batchSize: number;
  /** No answer within this: the attempt failed (the contract's 10 s). */
  timeoutMs: number;
  /** How long a claim holds; longer than any attempt, so only a dead replica's claim lapses. */
  leaseMs: number;
  /** The first retry's delay; each next one is four times longer, up to maxRetryMs. */
  firstRetryMs: number;
  maxRetryMs: number;
  /** Retries stop this long after the first attempt: the last one is made then. */
  giveUpAfterMs: number;
}

export const DEFAULT_WEBHOOK_TIMING: WebhookTiming = {
  pollMs: 1_000,
  batchSize: 16,
  timeoutMs: 10_000,
  leaseMs: 60_000,
  firstRetryMs: 30_000,
  maxRetryMs: 6 * 3_600_000,
  giveUpAfterMs: 24 * 3_600_000,
};

/**
 * When to try again after `failedAttempts` failures (this one included): 30 s, 2 min, 8 min, 32 min,
 * 2 h 8 min, then every 6 h, the last attempt exactly 24 h after the first; undefined once that is past.
 */
export function nextAttemptAt(
  timing: WebhookTiming,
  failedAttempts: number,
  firstAttemptAt: Date,
  now: Date,
): Date | undefined {
  const deadline = firstAttemptAt.getTime() + timing.giveUpAfterMs;
  if (now.getTime() >= deadline) return undefined;
  const delay = Math.min(timing.firstRetryMs * 4 ** (failedAttempts - 1), timing.maxRetryMs);
  return new Date(Math.min(now.getTime() + delay, deadline));
}

export interface WebhookTarget {
  url: string;
  /** whsec_ + base64, as Standard Webhooks has it. */
  secret: string;
}

export class WebhookDispatcher {
  private readonly signer: Webhook;
  private readonly agent: Agent;
  private readonly loop: PollingLoop;

  constructor(
    private readonly outbox: WebhookOutbox,
    private readonly target: WebhookTarget,
    private readonly logger: Pick<Logger, 'debug' | 'warn' | 'error'>,
    private readonly timing: WebhookTiming = DEFAULT_WEBHOOK_TIMING,
  ) {
    this.signer = new Webhook(target.secret);
    this.agent = new Agent({
      connect: { timeout: timing.timeoutMs },
      headersTimeout: timing.timeoutMs,
      bodyTimeout: timing.timeoutMs,
    });
    this.loop = new PollingLoop(
      () => this.runRound(),
      timing.pollMs,
      (error) => logger.error({ err: error }, 'webhooks: a delivery round failed'),
    );
  }

  start(): void {
    this.loop.start();
  }

  /** Claims nothing more, lets the attempts under way finish (each within timeoutMs), then closes. */
  async stop(): Promise<void> {
    await this.loop.stop();
    await this.agent.close();
  }

  /** One round: claim, deliver side by side; true when the batch was full (more may be due). */
  private async runRound(): Promise<boolean> {
    let claimed: ClaimedDelivery[];
    try {
      claimed = await this.outbox.claim(this.timing.batchSize, this.timing.leaseMs);
    } catch (error) {
      this.logger.warn({ err: error }, 'webhooks: could not claim due events; trying again shortly');
      return false;
    }
    // Stopped while claiming: give the claims back rather than start attempts nobody waits for.
    if (this.loop.stopped) {
      await this.outbox.release(claimed).catch(() => undefined); // else they lapse with the lease
      return false;
    }
    await Promise.all(claimed.map((delivery) => this.deliver(delivery)));
    return claimed.length === this.timing.batchSize;
  }

  private async deliver(delivery: ClaimedDelivery): Promise<void> {
    const attemptAt = new Date();
    const failure = await this.post(delivery, attemptAt);
    try {
      if (failure === undefined) {
        await this.outbox.acknowledge(delivery);
        const fields = { webhookId: delivery.id, type: delivery.type, attempts: delivery.attempts + 1 };
        return this.logger.debug(fields, 'webhook delivered');
      }
      const failed = delivery.attempts + 1;
      const next = nextAttemptAt(this.timing, failed, delivery.firstAttemptAt ?? attemptAt, new Date());
      await this.outbox.recordFailure(delivery, failure, attemptAt, next);
      const fields = { webhookId: delivery.id, type: delivery.type, attempts: failed, reason: failure };
      if (next)
        this.logger.warn({ ...fields, retryAt: next.toISOString() }, 'webhook delivery failed; will retry');
      else
        this.logger.error(
          fields,
          'webhook delivery failed for good: kept as failed (npm run webhooks:status)',
        );
    } catch (error) {
      // The database is away: the claim lapses with its lease and the event is tried again then.
      this.logger.warn({ err: error, webhookId: delivery.id }, 'webhooks: could not record an attempt');
    }
  }

  /** One signed POST; undefined when the platform acknowledged it, else why not, in our words. */
  private async post(delivery: ClaimedDelivery, attemptAt: Date): Promise<string | undefined> {
    try {
      const response = await request(this.target.url, {
        method: 'POST',
        dispatcher: this.agent,
        signal: AbortSignal.timeout(this.timing.timeoutMs),
        headers: {
          'content-type': 'application/json',
          'user-agent': 'byok-service-webhooks',
          'webhook-id': delivery.id,
          'webhook-timestamp': String(Math.floor(attemptAt.getTime() / 1000)),
          'webhook-signature': this.signer.sign(delivery.id, attemptAt, delivery.payload),
        },
        body: delivery.payload,
      });
      // The answer's body means nothing to us; read a little of it so the connection can be reused.
      await response.body.dump({ limit: 64 * 1024 }).catch(() => undefined);
      const { statusCode } = response;
      if (statusCode >= 200 && statusCode < 300) return undefined;
      if (statusCode >= 300 && statusCode < 400) return `HTTP ${statusCode}: a redirect, not followed`;
      return `HTTP ${statusCode}`;
    } catch (error) {
      const { code, name } = (error ?? {}) as { code?: unknown; name?: unknown };
      const cause = typeof code === 'string' ? code : typeof name === 'string' ? name : 'network error';
      return /TIMEOUT|TimeoutError|AbortError/i.test(cause)
        ? `no answer within ${this.timing.timeoutMs} ms`
        : `no answer: ${cause}`;
    }
  }
}
