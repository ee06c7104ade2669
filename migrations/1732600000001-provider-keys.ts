import { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { id, timestamp } from './columns';

export class ProviderKeys1732600000001 implements MigrationInterface {
  name = 'ProviderKeys1732600000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'provider_keys',
        columns: [
          { ...id('id', 36), isPrimary: true },
          id('account_id'),
          { name: 'provider', type: 'varchar', length: '32' },
          { name: 'ciphertext', type: 'blob' },
          { name: 'iv', type: 'blob' },
          { name: 'auth_tag', type: 'blob' },
          { name: 'wrapped_key', type: 'blob' },
          { name: 'master_key_version', type: 'integer' },
          { name: 'last_four', type: 'varchar', length: '4' },
          { name: 'label', type: 'varchar', length: '100', isNullable: true },
          { name: 'endpoint', type: 'varchar', length: '255', isNullable: true },
          { name: 'deployment', type: 'varchar', length: '64', isNullable: true },
          { name: 'health', type: 'varchar', length: '32' },
          { name: 'last_tested_at', type: 'datetime', isNullable: true },
          { name: 'last_test_message', type: 'varchar', length: '500', isNullable: true },
          { name: 'version', type: 'integer' },
          id('created_by'),
          timestamp(queryRunner, 'created_at'),
          timestamp(queryRunner, 'updated_at', true),
        ],
        indices: [
          {
            name: 'UQ_provider_keys_account_provider',
            columnNames: ['account_id', 'provider'],
            isUnique: true,
          },
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'provider_key_events',
        columns: [
          {
            name: 'id',
            type: 'integer',
            isPrimary: true,
            isGenerated: true,
            generationStrategy: 'increment',
          },
          id('account_id'),
          { name: 'provider', type: 'varchar', length: '32' },
          { name: 'action', type: 'varchar', length: '16' },
          id('actor_id'),
          { name: 'last_four', type: 'varchar', length: '4', isNullable: true },
          { name: 'health', type: 'varchar', length: '32', isNullable: true },
          timestamp(queryRunner, 'at'),
        ],
        indices: [{ name: 'IDX_provider_key_events_account', columnNames: ['account_id', 'id'] }],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('provider_key_events');
    await queryRunner.dropTable('provider_keys');
  }
}
