import http from 'node:http';

// Cross-origin calls from the pages of CORS_ORIGINS (a settings screen served from its own origin, say).
// A listed origin gets its preflight answered and its origin echoed on every answer; any other origin
// gets no CORS header at all, so its browser fails the preflight and never sends the request. Bearer
// tokens are the only credential, so no allow-credentials: browsers attach no cookies to these calls.
// Apollo's CSRF prevention stays on behind this: it is what stops a page's "simple" request, which a
// browser sends without a preflight.

const PREFLIGHT_HEADERS: Readonly<Record<string, string>> = {
  'access-control-allow-methods': 'GET, POST',
  'access-control-allow-headers': 'authorization, content-type, apollo-require-preflight',
  // How long a browser may reuse the answer without asking again (Chromium caps it at 2 h). Short: until
  // then it still sends requests from an origin taken off the list (though it can no longer read answers).
  'access-control-max-age': '600',
};

const NOT_LISTED =
  'This origin may not call the API from a browser: the origins that may are listed in CORS_ORIGINS.';

/** Returns true when it has answered the request (a preflight, listed or not); otherwise it goes on as usual. */
export type CorsHandler = (req: http.IncomingMessage, res: http.ServerResponse) => boolean;

export function corsHandler(origins: readonly string[]): CorsHandler {
  const allowed = new Set(origins);
  return (req, res) => {
    const origin = req.headers.origin;
    const listed = origin !== undefined && allowed.has(origin);
    if (listed) {
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('vary', 'Origin');
    }
    if (req.method !== 'OPTIONS' || req.headers['access-control-request-method'] === undefined) return false;
    if (listed) res.writeHead(204, PREFLIGHT_HEADERS).end();
    // Only a developer reads this (in the browser's network panel): the page itself sees a CORS failure.
    else
      res
        .writeHead(403, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' })
        .end(NOT_LISTED);
    return true;
  };
}
