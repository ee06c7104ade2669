import { DATABASES, startTestApp } from '../support/test-app';
import { Account } from '../../src/accounts/account.entity';
import { Membership } from '../../src/accounts/membership.entity';
import { DEMO_ACCOUNTS, DEMO_MEMBERSHIPS, seedDemo } from '../../src/accounts/demo-seed';

describe.each(DATABASES)('migrations and seed [%s]', (database) => {
  it('leave the schema exactly as the entities describe it, and seeding twice changes nothing', async () => {
    const app = await startTestApp(database);
    try {
      const pending = await app.dataSource.driver.createSchemaBuilder().log();
      expect(pending.upQueries.map((query) => query.query)).toEqual([]);
      await seedDemo(app.dataSource);
      await seedDemo(app.dataSource);
      expect(await app.dataSource.getRepository(Account).count()).toBe(DEMO_ACCOUNTS.length);
      expect(await app.dataSource.getRepository(Membership).count()).toBe(DEMO_MEMBERSHIPS.length);
      expect(await app.dataSource.showMigrations()).toBe(false);
    } finally {
      await app.stop();
    }
  });
});
