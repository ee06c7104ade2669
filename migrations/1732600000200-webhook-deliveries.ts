import { MigrationInterface, QueryRunner, Table, TableColumnOptions } from 'typeorm';
import { id } from './columns';

// The webhook outbox (src/webhooks/webhook-delivery.entity.ts): events waiting for the platform, and
// those whose delivery finally failed.

const time = (name: string, nullable = false): TableColumnOptions => ({
  name,
  type: 'datetime',
  precision: 6,
  isNullable: nullable,
});

export class WebhookDeliveries1732600000200 implements MigrationInterface {
  name = 'WebhookDeliveries1732600000200';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'webhook_deliveries',
        columns: [
          { ...id('id'), isPrimary: true },
          id('type'),
          { name: 'payload', type: 'text' },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'attempts', type: 'integer' },
          time('next_attempt_at'),
          { ...id('claim_token', 36), isNullable: true },
          time('first_attempt_at', true),
          { name: 'last_error', type: 'varchar', length: '200', isNullable: true },
          time('created_at'),
        ],
        indices: [{ name: 'IDX_webhook_deliveries_due', columnNames: ['status', 'next_attempt_at'] }],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('webhook_deliveries');
  }
}
