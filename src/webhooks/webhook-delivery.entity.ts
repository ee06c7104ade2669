import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { WebhookEventType } from './webhook-events';

// The outbox: one row per event still to deliver, or whose delivery finally failed. Written in the
// transaction of the change it reports; deleted once the platform acknowledged it. A claim is a token
// and a lease: the claiming replica moves `next_attempt_at` past the longest a delivery can take, so a
// replica that dies with a claim loses it when that time comes and another one delivers the event.

export type DeliveryStatus = 'pending' | 'failed';

@Entity('webhook_deliveries')
@Index('IDX_webhook_deliveries_due', ['status', 'nextAttemptAt'])
export class WebhookDelivery {
  /** The webhook-id header: unique per event, the same on every attempt. */
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id: string;

  @Column({ type: 'varchar', length: 64 })
  type: WebhookEventType;

  /** The exact JSON body, signed as it is. Holds no key material beyond the masked form. */
  @Column({ type: 'text' })
  payload: string;

  @Column({ type: 'varchar', length: 16 })
  status: DeliveryStatus;

  @Column({ type: 'integer' })
  attempts: number;

  /** When it is due; while claimed, when the claim lapses. */
  @Column({ name: 'next_attempt_at', type: 'datetime', precision: 6 })
  nextAttemptAt: Date;

  @Column({ name: 'claim_token', type: 'varchar', length: 36, nullable: true })
  claimToken: string | null;

  /** The 24 hours of retries count from here. */
  @Column({ name: 'first_attempt_at', type: 'datetime', precision: 6, nullable: true })
  firstAttemptAt: Date | null;

  /** Why the last attempt failed, in our words ("HTTP 500", "redirect, not followed", "timeout"). */
  @Column({ name: 'last_error', type: 'varchar', length: 200, nullable: true })
  lastError: string | null;

  @Column({ name: 'created_at', type: 'datetime', precision: 6 })
  createdAt: Date;
}
