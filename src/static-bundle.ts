import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

// The files of a browser page bundled at build time (the playground, the settings page): read from disk
// once at start-up and served with a declared type, so that no browser guesses one and nothing is read
// per request. Only files of the types below are served.

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

const COMMON_HEADERS = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' };

/** Bundle names carry a content hash (the build scripts), so a name always means the same bytes. */
export const IMMUTABLE = { 'cache-control': 'public, max-age=31536000, immutable' };

export interface Asset {
  body: Buffer;
  contentType: string;
}

/** dist/<name>: compiled, the caller is under dist/src/; under ts-jest it is under src/. Both find it. */
export function bundleDir(name: string): string {
  const root = path.resolve(__dirname, '..');
  return path.basename(root) === 'dist' ? path.join(root, name) : path.join(root, 'dist', name);
}

/** The bundle's files by name, or undefined when it was never built (no index.html). */
export function readBundle(dir: string): Map<string, Asset> | undefined {
  if (!fs.existsSync(path.join(dir, 'index.html'))) return undefined;
  const assets = new Map<string, Asset>();
  for (const name of fs.readdirSync(dir)) {
    const contentType = CONTENT_TYPES[path.extname(name)];
    if (contentType) assets.set(name, { body: fs.readFileSync(path.join(dir, name)), contentType });
  }
  return assets;
}

export function sendAsset(res: http.ServerResponse, asset: Asset, headers: Record<string, string>): void {
  res
    .writeHead(200, {
      ...COMMON_HEADERS,
      ...headers,
      'content-type': asset.contentType,
      'content-length': asset.body.length,
    })
    .end(asset.body);
}

export function sendText(res: http.ServerResponse, status: number, message: string): void {
  res
    .writeHead(status, {
      ...COMMON_HEADERS,
      'content-type': 'text/plain; charset=utf-8',
      'cache-control': 'no-store',
    })
    .end(message);
}
