import { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { id, timestamp } from './columns';

export class Accounts1732600000000 implements MigrationInterface {
  name = 'Accounts1732600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'accounts',
        columns: [
          { ...id('id'), isPrimary: true },
          { name: 'name', type: 'varchar', length: '200' },
          { name: 'plan', type: 'varchar', length: '16' },
          timestamp(queryRunner, 'created_at'),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'memberships',
        columns: [
          { ...id('user_id'), isPrimary: true },
          { ...id('account_id'), isPrimary: true },
          { name: 'role', type: 'varchar', length: '16' },
          timestamp(queryRunner, 'created_at'),
        ],
        foreignKeys: [
          {
            columnNames: ['account_id'],
            referencedTableName: 'accounts',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
            onUpdate: 'NO ACTION',
          },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('memberships');
    await queryRunner.dropTable('accounts');
  }
}
