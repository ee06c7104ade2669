import 'reflect-metadata';
import { loadConfig } from '../config';
import { SCHEMA } from '../app/database';
import { ensureDatabase, createDataSource } from '../db/data-source';
import { runCli } from './run';

// npm run migrate: applies pending migrations (creating the MySQL database when missing).

runCli(async () => {
  const { database } = loadConfig();
  const dataSource = await createDataSource(database, SCHEMA, await ensureDatabase(database)).initialize();
  try {
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    process.stdout.write(
      applied.length ? `Applied ${applied.map((m) => m.name).join(', ')}.\n` : 'No pending migrations.\n',
    );
  } finally {
    await dataSource.destroy();
  }
});
