import { MigrationInterface, QueryRunner, TableIndex } from 'typeorm';

// The stored keys by master key version: /readyz finds which versions are stored with a few index
// seeks instead of a scan of provider_keys, and keys:rewrap reads each old version's keys in id order.

export class KeyVersionIndex1732600000600 implements MigrationInterface {
  name = 'KeyVersionIndex1732600000600';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createIndex(
      'provider_keys',
      new TableIndex({
        name: 'IDX_provider_keys_master_key_version',
        columnNames: ['master_key_version', 'id'],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex('provider_keys', 'IDX_provider_keys_master_key_version');
  }
}
