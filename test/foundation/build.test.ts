import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from '../support/processes';

// `npm run token` and the other commands build only when dist/ is missing or older than a source
// (src/cli/build.js --if-stale), so a second token costs no rebuild and a running service's files stay.
// Checked on a throwaway copy of the script: there, a build it starts fails at once (no tsconfig), which
// tells "built" from "left alone" without touching this checkout's dist/.

describe('build --if-stale', () => {
  let root: string;
  const run = () =>
    spawnSync(process.execPath, [path.join(root, 'src/cli/build.js'), '--if-stale'], {
      encoding: 'utf8',
      timeout: 30_000,
    });
  const at = (file: string, seconds: number) => fs.utimesSync(path.join(root, file), seconds, seconds);

  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'byok-build-'));
    fs.mkdirSync(path.join(root, 'src/cli'), { recursive: true });
    fs.mkdirSync(path.join(root, 'dist'));
    fs.copyFileSync(path.join(ROOT, 'src/cli/build.js'), path.join(root, 'src/cli/build.js'));
    fs.writeFileSync(path.join(root, 'src/main.ts'), 'export {};\n');
    fs.mkdirSync(path.join(root, 'schema/operations'), { recursive: true });
    fs.writeFileSync(path.join(root, 'schema/operations/keys.graphql'), 'query Keys { me { role } }\n');
    fs.writeFileSync(path.join(root, 'codegen.yml'), 'schema: schema/schema.graphql\n');
    fs.mkdirSync(path.join(root, 'src/settings-page/client/generated'), { recursive: true });
    fs.writeFileSync(path.join(root, 'src/settings-page/client/generated/graphql.ts'), 'export {};\n');
    for (const file of [
      'src/cli/build.js',
      'src/main.ts',
      'schema/operations/keys.graphql',
      'codegen.yml',
      'src/settings-page/client/generated/graphql.ts',
    ])
      at(file, 1_000);
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('builds when dist/ was never built', () => {
    expect(run().status).not.toBe(0); // it tried: tsc finds no tsconfig here
  });

  it('does nothing when dist/ is newer than every source', () => {
    fs.writeFileSync(path.join(root, 'dist/.built'), '');
    at('dist/.built', 2_000);
    const result = run();
    expect(result.status).toBe(0);
    expect(result.stdout + result.stderr).toBe('');
  });

  it('builds again once a source changes', () => {
    at('src/main.ts', 3_000);
    expect(run().status).not.toBe(0);
  });

  it("ignores what the build itself writes under src/ (the settings page's generated documents)", () => {
    at('dist/.built', 4_000);
    at('src/settings-page/client/generated/graphql.ts', 5_000);
    const result = run();
    expect(result.status).toBe(0);
    expect(result.stdout + result.stderr).toBe('');
  });

  it('builds again once an operation or the codegen configuration changes (the settings page is made from them)', () => {
    at('dist/.built', 6_000);
    at('schema/operations/keys.graphql', 7_000);
    expect(run().status).not.toBe(0);
    at('dist/.built', 8_000);
    at('codegen.yml', 9_000);
    expect(run().status).not.toBe(0);
  });
});
