import http from 'node:http';
import { Logger } from 'pino';
import { bundleDir, IMMUTABLE, readBundle, sendAsset, sendText } from '../static-bundle';

// The account's "AI Provider Keys" page at GET /settings and its bundle under /settings/assets/, from the
// files that `npm run build` writes to dist/settings-page (src/settings-page/build.js). The page speaks
// only the public GraphQL API, from this origin: nothing is loaded from anywhere else, so it works offline
// and where data-residency rules forbid third-party origins. Mounted when config.settingsPage is on
// (outside production by default; SETTINGS_PAGE=true in production).

export const PAGE_PATH = '/settings';
export const ASSET_PREFIX = '/settings/assets/';

// This origin only, and stricter than the playground's: the page's own stylesheet and script, no inline
// style or script, no fonts, no frames, no form posts. React sets styles through the DOM, which the
// policy allows; a style attribute in markup would be refused. img-src lets in the page's empty icon.
const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const MISSING =
  'The settings page is not built: run `npm run build` (it writes dist/settings-page), then restart.';

export interface SettingsPage {
  matches(req: http.IncomingMessage, url: URL): boolean;
  serve(res: http.ServerResponse, url: URL): void;
}

/** Reads the bundle once, at start-up; a missing bundle is a warning and a 404 that says how to build it. */
export function loadSettingsPage(logger: Logger, dir = bundleDir('settings-page')): SettingsPage {
  const assets = readBundle(dir);
  if (!assets) logger.warn({ dir }, MISSING);
  const page = assets?.get('index.html');

  return {
    matches(req, url) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return false;
      return url.pathname === PAGE_PATH || url.pathname.startsWith(ASSET_PREFIX);
    },

    serve(res, url) {
      if (!assets || !page) return sendText(res, 404, MISSING);
      if (url.pathname === PAGE_PATH) {
        return sendAsset(res, page, { 'cache-control': 'no-cache', 'content-security-policy': PAGE_CSP });
      }
      const name = url.pathname.slice(ASSET_PREFIX.length);
      const asset = name === 'index.html' ? undefined : assets.get(name);
      if (!asset) return sendText(res, 404, `Not found. The settings page is at ${PAGE_PATH}.`);
      return sendAsset(res, asset, IMMUTABLE);
    },
  };
}
