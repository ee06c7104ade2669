import fs from 'node:fs';
import path from 'node:path';
import { buildBareSchema, printSdl } from '../app/schema';
import { openApiText } from '../credentials/credentials.openapi';
import { runCli } from './run';

// npm run schema:emit: writes schema/schema.graphql and schema/internal-api.openapi.json from the code.
// Tests fail when the committed files differ from what the code builds.

runCli(async () => {
  const dir = path.resolve(__dirname, '../../../schema');
  const files: [string, string][] = [
    ['schema.graphql', printSdl(await buildBareSchema())],
    ['internal-api.openapi.json', openApiText()],
  ];
  for (const [name, text] of files) {
    fs.writeFileSync(path.join(dir, name), text);
    process.stdout.write(`Wrote ${path.relative(process.cwd(), path.join(dir, name))}\n`);
  }
});
