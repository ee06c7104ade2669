import 'reflect-metadata';
import { loadConfig } from './src/config';
import { SCHEMA } from './src/app/database';
import { createDataSource } from './src/db/data-source';

// For the TypeORM CLI (e.g. `npx typeorm -d dist/ormconfig.js migration:show`): the service's own DataSource.
export default createDataSource(loadConfig(process.env).database, SCHEMA);
