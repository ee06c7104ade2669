import { MigrationInterface, QueryRunner, TableColumn, TableIndex } from 'typeorm';

// The key monitor (src/monitor/): when each key is tested next, which replica holds it meanwhile, and
// which expiry reminders were sent. A claimed key's next_check_at is its claim's expiry, so one index
// serves both "due" and "claim lapsed". NULL (keys stored before the monitor, or while it was off) is due.

export class KeyMonitor1732600000400 implements MigrationInterface {
  name = 'KeyMonitor1732600000400';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumns('provider_keys', [
      new TableColumn({ name: 'next_check_at', type: 'datetime', isNullable: true }),
      new TableColumn({ name: 'claimed_by', type: 'varchar', length: '64', isNullable: true }),
      new TableColumn({ name: 'expiry_notified', type: 'integer', default: 0 }),
    ]);
    await queryRunner.createIndex(
      'provider_keys',
      new TableIndex({ name: 'IDX_provider_keys_next_check', columnNames: ['next_check_at'] }),
    );
    await queryRunner.createIndex(
      'provider_keys',
      new TableIndex({ name: 'IDX_provider_keys_expiry', columnNames: ['expiry_notified', 'expires_at'] }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex('provider_keys', 'IDX_provider_keys_expiry');
    await queryRunner.dropIndex('provider_keys', 'IDX_provider_keys_next_check');
    for (const column of ['expiry_notified', 'claimed_by', 'next_check_at']) {
      await queryRunner.dropColumn('provider_keys', column);
    }
  }
}
