import fs from 'node:fs';
import path from 'node:path';
import { buildBareSchema, printSdl } from '../../src/app/schema';

describe('schema/schema.graphql', () => {
  it('is exactly what the code builds (run `npm run schema:emit` after changing the schema)', async () => {
    const committed = fs.readFileSync(path.join(__dirname, '../../schema/schema.graphql'), 'utf8');
    expect(committed).toBe(printSdl(await buildBareSchema()));
  });
});
