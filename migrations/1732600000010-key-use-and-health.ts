import { MigrationInterface, QueryRunner, Table, TableColumn } from 'typeorm';
import { id } from './columns';

// What the internal credential API learns of a key: when a pipeline was last handed it, a cooldown after
// transient failures (and the count that leads to one), the health before a change (audit), and the
// resolves and failures per key and UTC day.

export class KeyUseAndHealth1732600000010 implements MigrationInterface {
  name = 'KeyUseAndHealth1732600000010';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumns('provider_keys', [
      new TableColumn({ name: 'last_used_at', type: 'datetime', isNullable: true }),
      new TableColumn({ name: 'cooling_down_until', type: 'datetime', isNullable: true }),
      new TableColumn({ name: 'transient_failures', type: 'integer', default: 0 }),
      new TableColumn({ name: 'transient_since', type: 'datetime', isNullable: true }),
    ]);
    await queryRunner.addColumn(
      'provider_key_events',
      new TableColumn({ name: 'previous_health', type: 'varchar', length: '32', isNullable: true }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'provider_key_usage',
        columns: [
          { ...id('key_id', 36), isPrimary: true },
          { name: 'day', type: 'varchar', length: '10', isPrimary: true },
          id('account_id'),
          { name: 'resolves', type: 'integer', default: 0 },
          { name: 'failures', type: 'integer', default: 0 },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('provider_key_usage');
    await queryRunner.dropColumn('provider_key_events', 'previous_health');
    for (const column of ['transient_since', 'transient_failures', 'cooling_down_until', 'last_used_at']) {
      await queryRunner.dropColumn('provider_keys', column);
    }
  }
}
