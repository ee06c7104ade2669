// `npm run build`, and with --if-stale the step before every npm command that runs the compiled code
// (start, token, migrate, seed, keys:*): it builds only when dist/ is missing or older than a source, so
// a token costs no rebuild and a running service's files are not rewritten under it. Plain Node (not
// compiled by tsc): it must run before dist/ exists.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

/** What the build reads: a change to any of these makes dist/ stale. */
const INPUTS = [
  'src',
  'migrations',
  'bench',
  'ormconfig.ts',
  'tsconfig.json',
  'tsconfig.build.json',
  'package-lock.json',
  // The settings page's typed documents are generated from these.
  'schema',
  'codegen.yml',
];
/** What the build writes inside an input: never a reason to build again. */
const OUTPUTS = new Set(['src/settings-page/client/generated'].map((dir) => path.normalize(dir)));
const stampOf = (root) => path.join(root, 'dist', '.built');

function newestInput(root, entry) {
  if (OUTPUTS.has(entry)) return 0;
  const stat = fs.statSync(path.join(root, entry), { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  const names = fs.readdirSync(path.join(root, entry));
  return Math.max(0, ...names.map((name) => newestInput(root, path.join(entry, name))));
}

/** True when dist/ was never built completely, or a source changed since the last build started. */
function isStale(root) {
  const built = fs.statSync(stampOf(root), { throwIfNoEntry: false });
  return !built || INPUTS.some((input) => newestInput(root, path.normalize(input)) > built.mtimeMs);
}

function build(root) {
  const run = (args) => {
    const result = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
    if (result.status !== 0) process.exit(result.status ?? 1);
  };
  // The stamp takes the time the build started: a source saved during the build still counts as newer.
  const started = new Date();
  run([require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json']);
  run([path.join(root, 'src/playground/build.js')]);
  run([path.join(root, 'src/settings-page/build.js')]);
  fs.writeFileSync(stampOf(root), '');
  fs.utimesSync(stampOf(root), started, started);
}

module.exports = { isStale };

if (require.main === module) {
  const root = path.resolve(__dirname, '../..');
  if (!process.argv.includes('--if-stale') || isStale(root)) build(root);
}
