import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { Logger } from 'pino';

// GraphiQL for browsers at GET /graphql and its bundle under /graphql/playground/, from the files that
// `npm run build` writes to dist/playground (src/playground/build.js). Everything is same-origin: the page
// must work offline and where data-residency rules forbid third-party origins. Only mounted when
// config.graphql.playground is on (never in production unless GRAPHQL_PLAYGROUND=true).

export const ASSET_PREFIX = '/graphql/playground/';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

// Same origin only. GraphiQL and CodeMirror set inline styles, and its CSS embeds its fonts and icons as
// data: URIs; nothing else is let in, and no script that is not ours runs.
const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self' data:",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const COMMON_HEADERS = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' };

const MISSING =
  'The GraphQL playground is not built: run `npm run build` (it writes dist/playground), then restart.';

export interface Playground {
  /** The page or one of its files; GraphQL requests (POST, or GET with ?query=) are left to Apollo. */
  matches(req: http.IncomingMessage, url: URL): boolean;
  serve(res: http.ServerResponse, url: URL): void;
}

interface Asset {
  body: Buffer;
  contentType: string;
}

/** Compiled, this file is dist/src/playground/; under ts-jest it is src/playground/. Both find dist/playground. */
export function defaultBundleDir(): string {
  const root = path.resolve(__dirname, '../..');
  return path.basename(root) === 'dist'
    ? path.join(root, 'playground')
    : path.join(root, 'dist', 'playground');
}

/** Reads the bundle once, at start-up; a missing bundle is a warning and a 404 that says how to build it. */
export function loadPlayground(logger: Logger, dir = defaultBundleDir()): Playground {
  const assets = readBundle(dir);
  if (!assets) logger.warn({ dir }, MISSING);
  const page = assets?.get('index.html');

  return {
    matches(req, url) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return false;
      if (url.pathname.startsWith(ASSET_PREFIX)) return true;
      // A browser navigating to the endpoint; GET with ?query= is a GraphQL request, whatever it accepts.
      return (
        url.pathname === '/graphql' &&
        !url.searchParams.has('query') &&
        /\btext\/html\b/i.test(req.headers.accept ?? '')
      );
    },

    serve(res, url) {
      if (!assets || !page) return sendText(res, 404, MISSING);
      if (url.pathname === '/graphql') {
        return sendAsset(res, page, { 'cache-control': 'no-cache', 'content-security-policy': PAGE_CSP });
      }
      const name = url.pathname.slice(ASSET_PREFIX.length);
      const asset = name === 'index.html' ? undefined : assets.get(name);
      if (!asset) return sendText(res, 404, 'Not found. The playground is at /graphql.');
      // Bundle names carry a content hash (build.js), so a name always means the same bytes.
      return sendAsset(res, asset, { 'cache-control': 'public, max-age=31536000, immutable' });
    },
  };
}

function readBundle(dir: string): Map<string, Asset> | undefined {
  if (!fs.existsSync(path.join(dir, 'index.html'))) return undefined;
  const assets = new Map<string, Asset>();
  for (const name of fs.readdirSync(dir)) {
    const contentType = CONTENT_TYPES[path.extname(name)];
    if (contentType) assets.set(name, { body: fs.readFileSync(path.join(dir, name)), contentType });
  }
  return assets;
}

function sendAsset(res: http.ServerResponse, asset: Asset, headers: Record<string, string>): void {
  res
    .writeHead(200, {
      ...COMMON_HEADERS,
      ...headers,
      'content-type': asset.contentType,
      'content-length': asset.body.length,
    })
    .end(asset.body);
}

function sendText(res: http.ServerResponse, status: number, message: string): void {
  res
    .writeHead(status, {
      ...COMMON_HEADERS,
      'content-type': 'text/plain; charset=utf-8',
      'cache-control': 'no-store',
    })
    .end(message);
}
