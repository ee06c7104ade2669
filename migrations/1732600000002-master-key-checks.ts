import { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { timestamp } from './columns';

// One check value per master key version (an HMAC under that key, never the key): lets start-up and
// /readyz tell a wrong key under a known version from the right one before any stored key is opened.

export class MasterKeyChecks1732600000002 implements MigrationInterface {
  name = 'MasterKeyChecks1732600000002';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'master_key_checks',
        columns: [
          { name: 'master_key_version', type: 'integer', isPrimary: true },
          { name: 'check_value', type: 'varchar', length: '64' },
          timestamp(queryRunner, 'created_at'),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('master_key_checks');
  }
}
