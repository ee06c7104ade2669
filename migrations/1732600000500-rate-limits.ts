import { MigrationInterface, QueryRunner } from 'typeorm';

// The connection-test rate limit, counted across replicas (rate-limiter-flexible's RateLimiterMySQL).
// The columns are exactly the ones the library would create itself (its _getCreateTableStmt); it is told
// the table exists (tableCreated) so that the service needs no CREATE privilege at run time. The index on
// `expire` serves the library's cleanup (DELETE … WHERE expire < ?, every 5 minutes). SQLite serves one
// process and counts in memory: no table there.

const isSqlite = (queryRunner: QueryRunner) =>
  queryRunner.connection.driver.options.type === 'better-sqlite3';

export class RateLimits1732600000500 implements MigrationInterface {
  name = 'RateLimits1732600000500';

  async up(queryRunner: QueryRunner): Promise<void> {
    if (isSqlite(queryRunner)) return;
    await queryRunner.query(
      'CREATE TABLE `rate_limits` (' +
        '`key` VARCHAR(255) CHARACTER SET utf8 NOT NULL, ' +
        '`points` INT(9) NOT NULL DEFAULT 0, ' +
        '`expire` BIGINT UNSIGNED, ' +
        'PRIMARY KEY (`key`), ' +
        'KEY `IDX_rate_limits_expire` (`expire`)' +
        ') ENGINE = InnoDB',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    if (isSqlite(queryRunner)) return;
    await queryRunner.query('DROP TABLE `rate_limits`');
  }
}
