// Bundles the "AI Provider Keys" page (its TSX and CSS, React, Apollo Client) into dist/settings-page at
// build time, so that the running service serves it from disk and no browser loads anything from a CDN.
// First it writes the typed documents the page imports (codegen.yml: client/generated/, not committed).
// Run by `npm run build`; alone: `npm run build:settings`. Plain Node (not compiled by tsc): it must run
// before dist/ exists. Type-checking is `npm run typecheck`'s job (client/tsconfig.json), not esbuild's.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const esbuild = require('esbuild');

// The URL prefix the server serves the bundle under (src/settings-page/settings-page.handler.ts).
const ASSET_PREFIX = '/settings/assets/';
const root = path.resolve(__dirname, '../..');
const outdir = path.join(root, 'dist/settings-page');

function codegen() {
  const cli = path.join(path.dirname(require.resolve('@graphql-codegen/cli/package.json')), 'esm/bin.js');
  const result = spawnSync(process.execPath, [cli, '--config', 'codegen.yml', '--silent'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (result.status !== 0) throw new Error('codegen failed (see above)');
}

async function main() {
  codegen();
  fs.rmSync(outdir, { recursive: true, force: true });
  const result = await esbuild.build({
    entryPoints: { settings: path.join(__dirname, 'client/main.tsx') },
    outdir,
    // Content-hashed names let the server cache the bundle for good while the page itself is revalidated.
    entryNames: '[name]-[hash]',
    bundle: true,
    minify: true,
    format: 'iife',
    target: ['chrome109', 'firefox115', 'safari16'],
    jsx: 'automatic',
    // React's and Apollo Client's production builds (no development checks or warnings).
    define: { 'process.env.NODE_ENV': '"production"' },
    conditions: ['production'],
    metafile: true,
    logLevel: 'warning',
  });
  const outputs = Object.keys(result.metafile.outputs).map((file) => path.basename(file));
  const pick = (ext) => {
    const names = outputs.filter((name) => name.endsWith(ext));
    if (names.length !== 1)
      throw new Error(`expected one ${ext} file in the settings bundle, got ${names.join(', ') || 'none'}`);
    return ASSET_PREFIX + names[0];
  };
  const template = fs.readFileSync(path.join(__dirname, 'index.html'), 'utf8');
  const html = template.replace('{{script}}', pick('.js')).replace('{{style}}', pick('.css'));
  fs.writeFileSync(path.join(outdir, 'index.html'), html);
}

main().catch((error) => {
  process.stderr.write(`settings page build failed: ${error.message}\n`);
  process.exit(1);
});
