import fs from 'node:fs';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { Browser, chromium, Page } from 'playwright-core';
import { startTestApp, TestApp } from '../support/test-app';

// A frontend on another origin, as Chromium runs it: two tiny pages, each served by its own node:http
// server on another port of 127.0.0.1 (so another origin), call the service with fetch() and a bearer
// token. The service lists only the first in CORS_ORIGINS: that page gets the data; the browser blocks
// the other one's call at the preflight, so the service never runs it. (cors.test.ts: the same over HTTP.)

const CHROMIUM = '/usr/bin/chromium';
const INSTALL_HINT = `Chromium is not installed at ${CHROMIUM}: run \`apt-get update && apt-get install -y chromium\` (.ci/run does this).`;

// The page's own script, as a settings screen would call the API. Named operations, so that the
// service's log shows which page's call it ran.
const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>another origin</title><link rel="icon" href="data:,"></head>
<body><script>
  window.callApi = async (endpoint, token, operationName) => {
    try {
      const response = await fetch(endpoint, {
        method: 'POST',
        headers: { authorization: 'Bearer ' + token, 'content-type': 'application/json' },
        body: JSON.stringify({ query: 'query ' + operationName + ' { me { userId role } }' }),
      });
      return { status: response.status, body: await response.json() };
    } catch (error) {
      return { error: String(error) };
    }
  };
</script></body></html>`;

interface PageServer {
  origin: string;
  close(): Promise<void>;
}

async function servePage(): Promise<PageServer> {
  const server = http.createServer((req, res) =>
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('CORS_ORIGINS from Chromium on other loopback origins', () => {
  let listed: PageServer;
  let unlisted: PageServer;
  let app: TestApp;
  let browser: Browser | undefined;
  let page: Page;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    // Fail, never skip: a machine without Chromium must not pass this suite by accident.
    if (!fs.existsSync(CHROMIUM)) throw new Error(INSTALL_HINT);
    [listed, unlisted] = await Promise.all([servePage(), servePage()]);
    app = await startTestApp('sqlite', { env: { CORS_ORIGINS: listed.origin } });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    });
    page = await browser.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    await Promise.all([listed?.close(), unlisted?.close()]);
  });

  const callFrom = async (origin: string, operationName: string) => {
    await page.goto(`${origin}/`);
    const token = await app.token('user_alice', 'acct_acme');
    return page.evaluate(
      ([endpoint, bearer, name]) => (globalThis as any).callApi(endpoint, bearer, name),
      [`${app.url}/graphql`, token, operationName],
    );
  };
  const ran = (operationName: string) =>
    app.logs.filter(
      (line) => line.includes('"msg":"graphql operation"') && line.includes(`"operation":"${operationName}"`),
    );

  it('a page on a listed origin gets the data', async () => {
    expect(await callFrom(listed.origin, 'FromListedOrigin')).toEqual({
      status: 200,
      body: { data: { me: { userId: 'user_alice', role: 'ADMIN' } } },
    });
    expect(ran('FromListedOrigin')).toHaveLength(1);
    expect(consoleErrors).toEqual([]);
  }, 30_000);

  it('a page on another origin is blocked by the browser, and the service never runs its call', async () => {
    expect(await callFrom(unlisted.origin, 'FromUnlistedOrigin')).toEqual({
      error: 'TypeError: Failed to fetch',
    });
    expect(consoleErrors.join('\n')).toMatch(
      new RegExp(
        `from origin '${unlisted.origin}' has been blocked by CORS policy: Response to preflight request`,
      ),
    );
    expect(ran('FromUnlistedOrigin')).toEqual([]);
  }, 30_000);
});
