// Bundles the playground (GraphiQL, React, CodeMirror and their CSS) into dist/playground at build time,
// so the running service serves it from disk and no browser ever loads it from a CDN. Run by `npm run build`.
// Plain Node (not compiled by tsc): it must run before dist/ exists.
const fs = require('node:fs');
const path = require('node:path');
const esbuild = require('esbuild');

// The URL prefix the server serves the bundle under (src/playground/playground.handler.ts).
const ASSET_PREFIX = '/graphql/playground/';
const outdir = path.resolve(__dirname, '../../dist/playground');

async function main() {
  fs.rmSync(outdir, { recursive: true, force: true });
  const result = await esbuild.build({
    entryPoints: { playground: path.join(__dirname, 'client/playground.jsx') },
    outdir,
    // Content-hashed names let the server cache the bundle for good while the page itself is revalidated.
    entryNames: '[name]-[hash]',
    bundle: true,
    minify: true,
    format: 'iife',
    target: ['chrome109', 'firefox115', 'safari16'],
    jsx: 'automatic',
    define: { 'process.env.NODE_ENV': '"production"' },
    metafile: true,
    logLevel: 'warning',
  });
  const outputs = Object.keys(result.metafile.outputs).map((file) => path.basename(file));
  const pick = (ext) => {
    const names = outputs.filter((name) => name.endsWith(ext));
    if (names.length !== 1)
      throw new Error(`expected one ${ext} file in the playground bundle, got ${names.join(', ') || 'none'}`);
    return ASSET_PREFIX + names[0];
  };
  const template = fs.readFileSync(path.join(__dirname, 'index.html'), 'utf8');
  const html = template.replace('{{script}}', pick('.js')).replace('{{style}}', pick('.css'));
  fs.writeFileSync(path.join(outdir, 'index.html'), html);
}

main().catch((error) => {
  process.stderr.write(`playground build failed: ${error.message}\n`);
  process.exit(1);
});
