import fs from 'node:fs';
import path from 'node:path';
import { buildBareSchema, printSdl } from '../app/schema';
import { runCli } from './run';

// npm run schema:emit: writes schema/schema.graphql from the code. A test fails when they differ.

runCli(async () => {
  const file = path.resolve(__dirname, '../../../schema/schema.graphql');
  fs.writeFileSync(file, printSdl(await buildBareSchema()));
  process.stdout.write(`Wrote ${path.relative(process.cwd(), file)}\n`);
});
