import crypto from 'node:crypto';
import { DataSource, In } from 'typeorm';
import { dialectOf } from '../db/dialect';
import { inTransaction } from '../db/transaction';
import { WebhookDelivery, type DeliveryStatus } from './webhook-delivery.entity';
import type { PublishWebhook, WebhookBody } from './webhook-events';

// Every read and write of the outbox. Claims are what let any number of replicas deliver side by side
// with each event in the hands of one at a time: on MySQL/MariaDB the due rows are read FOR UPDATE SKIP
// LOCKED, so two replicas claiming at once take different rows; SQLite serves one process, whose write
// transactions run one at a time (db/transaction.ts). A claim's token guards every later write, so a
// replica whose lease lapsed (a long pause, a partition) cannot touch a row another one has claimed since.

/** A claimed event, ready to POST. */
export type ClaimedDelivery = Pick<
  WebhookDelivery,
  'id' | 'type' | 'payload' | 'attempts' | 'firstAttemptAt' | 'createdAt'
> & { claimToken: string };

export interface OutboxStatus {
  status: DeliveryStatus;
  count: number;
  /** When the oldest of them happened; null when there are none. */
  oldest: Date | null;
}

export class WebhookOutbox {
  constructor(private readonly dataSource: DataSource) {}

  /** The PublishWebhook the composition root hands the capabilities. */
  readonly publish: PublishWebhook = async (manager, type, data) => {
    const now = new Date();
    const body: WebhookBody = { type, timestamp: now.toISOString(), data };
    await manager
      .createQueryBuilder()
      .insert()
      .into(WebhookDelivery)
      .values({
        // Standard Webhooks' ids are opaque strings; "msg_" as its examples have it.
        id: `msg_${crypto.randomUUID().replaceAll('-', '')}`,
        type,
        payload: JSON.stringify(body),
        status: 'pending',
        attempts: 0,
        nextAttemptAt: now,
        claimToken: null,
        firstAttemptAt: null,
        lastError: null,
        createdAt: now,
      })
      .updateEntity(false)
      .execute();
  };

  /** Claims up to `limit` due events for `leaseMs`, oldest due first. */
  claim(limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
    return inTransaction(this.dataSource, async (manager) => {
      const now = new Date();
      let due = manager
        .getRepository(WebhookDelivery)
        .createQueryBuilder('d')
        .select(['d.id', 'd.type', 'd.payload', 'd.attempts', 'd.firstAttemptAt', 'd.createdAt'])
        .where('d.status = :pending AND d.nextAttemptAt <= :now', { pending: 'pending', now })
        .orderBy('d.nextAttemptAt', 'ASC')
        .limit(limit);
      if (dialectOf(manager) !== 'sqlite') due = due.setLock('pessimistic_write').setOnLocked('skip_locked');
      const rows = await due.getMany();
      if (rows.length === 0) return [];
      const claimToken = crypto.randomUUID();
      await manager.update(
        WebhookDelivery,
        { id: In(rows.map((row) => row.id)) },
        { claimToken, nextAttemptAt: new Date(now.getTime() + leaseMs) },
      );
      return rows.map((row) => ({ ...row, claimToken }));
    });
  }

  /** The platform acknowledged it: nothing is left to do, so the row goes. */
  async acknowledge(delivery: ClaimedDelivery): Promise<void> {
    await inTransaction(this.dataSource, (manager) =>
      manager.delete(WebhookDelivery, { id: delivery.id, claimToken: delivery.claimToken }),
    );
  }

  /** A failed attempt: tried again at `next`, or kept as failed when `next` is undefined. */
  async recordFailure(delivery: ClaimedDelivery, error: string, attemptAt: Date, next?: Date): Promise<void> {
    await inTransaction(this.dataSource, (manager) =>
      manager.update(
        WebhookDelivery,
        { id: delivery.id, claimToken: delivery.claimToken },
        {
          status: next ? 'pending' : 'failed',
          attempts: delivery.attempts + 1,
          firstAttemptAt: delivery.firstAttemptAt ?? attemptAt,
          nextAttemptAt: next ?? attemptAt,
          claimToken: null,
          lastError: error.slice(0, 200),
        },
      ),
    );
  }

  /** Gives claimed events back untried (shutting down), due at once for whichever replica is next. */
  async release(deliveries: readonly ClaimedDelivery[]): Promise<void> {
    for (const { id, claimToken } of deliveries) {
      await inTransaction(this.dataSource, (manager) =>
        manager.update(WebhookDelivery, { id, claimToken }, { claimToken: null, nextAttemptAt: new Date() }),
      );
    }
  }

  /** Pending and failed events: how many, and the oldest (npm run webhooks:status). */
  async status(): Promise<OutboxStatus[]> {
    const rows = await this.dataSource
      .getRepository(WebhookDelivery)
      .createQueryBuilder('d')
      .select('d.status', 'status')
      .addSelect('COUNT(*)', 'count')
      .addSelect('MIN(d.createdAt)', 'oldest')
      .groupBy('d.status')
      .getRawMany<{ status: DeliveryStatus; count: number | string; oldest: Date | string | null }>();
    return (['pending', 'failed'] as const).map((status) => {
      const row = rows.find((candidate) => candidate.status === status);
      return { status, count: Number(row?.count ?? 0), oldest: row?.oldest ? asUtcDate(row.oldest) : null };
    });
  }
}

/** A raw datetime as the drivers return it: a Date (mysql2), or SQLite's "YYYY-MM-DD HH:MM:SS.SSS" in UTC. */
function asUtcDate(value: Date | string): Date {
  return value instanceof Date ? value : new Date(`${value.replace(' ', 'T')}Z`);
}
