import http from 'node:http';
import { Logger } from 'pino';
import { bundleDir, IMMUTABLE, readBundle, sendAsset, sendText } from '../static-bundle';

// GraphiQL for browsers at GET /graphql and its bundle under /graphql/playground/, from the files that
// `npm run build` writes to dist/playground (src/playground/build.js). Everything is same-origin: the page
// must work offline and where data-residency rules forbid third-party origins. Only mounted when
// config.graphql.playground is on (never in production unless GRAPHQL_PLAYGROUND=true).

export const ASSET_PREFIX = '/graphql/playground/';

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

const MISSING =
  'The GraphQL playground is not built: run `npm run build` (it writes dist/playground), then restart.';

export interface Playground {
  /** The page or one of its files; GraphQL requests (POST, or GET with ?query=) are left to Apollo. */
  matches(req: http.IncomingMessage, url: URL): boolean;
  serve(res: http.ServerResponse, url: URL): void;
}

/** Reads the bundle once, at start-up; a missing bundle is a warning and a 404 that says how to build it. */
export function loadPlayground(logger: Logger, dir = bundleDir('playground')): Playground {
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
      return sendAsset(res, asset, IMMUTABLE);
    },
  };
}
