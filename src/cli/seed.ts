import 'reflect-metadata';
import { loadConfig } from '../config';
import { seedDemo } from '../accounts/demo-seed';
import { openAppDatabase } from '../app/database';
import { runCli } from './run';

// npm run seed: migrates, then upserts the demo accounts and members. Safe to run again.

runCli(async () => {
  const dataSource = await openAppDatabase(loadConfig().database);
  try {
    await seedDemo(dataSource);
    process.stdout.write(
      'Demo data seeded: acct_acme (user_alice ADMIN, user_bob MEMBER), acct_globex (user_gina ADMIN), acct_initech (user_ivan ADMIN).\n',
    );
  } finally {
    await dataSource.destroy();
  }
});
