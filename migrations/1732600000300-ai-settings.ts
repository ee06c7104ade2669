import { MigrationInterface, QueryRunner, Table, TableColumn } from 'typeorm';
import { flag, id, timestamp } from './columns';

// The admin's routing choices per account (provider order, built-in fallback, model per task) with an
// audit row per change; and on each key the expiry the admin set and the models its last passing test
// listed.

export class AiSettings1732600000300 implements MigrationInterface {
  name = 'AiSettings1732600000300';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'account_ai_settings',
        columns: [
          { ...id('account_id'), isPrimary: true },
          { name: 'provider_order', type: 'varchar', length: '255' },
          flag(queryRunner, 'built_in_fallback'),
          { name: 'task_models', type: 'text' },
          id('updated_by'),
          timestamp(queryRunner, 'updated_at', true),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'ai_settings_events',
        columns: [
          {
            name: 'id',
            type: 'integer',
            isPrimary: true,
            isGenerated: true,
            generationStrategy: 'increment',
          },
          id('account_id'),
          id('actor_id'),
          { name: 'changes', type: 'text' },
          timestamp(queryRunner, 'at'),
        ],
        indices: [{ name: 'IDX_ai_settings_events_account', columnNames: ['account_id', 'id'] }],
      }),
    );
    await queryRunner.addColumns('provider_keys', [
      new TableColumn({ name: 'expires_at', type: 'datetime', isNullable: true }),
      new TableColumn({ name: 'available_models', type: 'text', isNullable: true }),
    ]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('provider_keys', 'available_models');
    await queryRunner.dropColumn('provider_keys', 'expires_at');
    await queryRunner.dropTable('ai_settings_events');
    await queryRunner.dropTable('account_ai_settings');
  }
}
