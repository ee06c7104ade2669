import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { loadConfig } from '../../src/config';
import { loadSettingsPage } from '../../src/settings-page/settings-page.handler';
import { startTestApp, TestApp } from '../support/test-app';

// What a browser gets at GET /settings, over plain HTTP: the page and its bundle from this origin only,
// with a CSP that lets in nothing else, nosniff, and caching that never serves a stale page; and when it
// is served at all (outside production by default, SETTINGS_PAGE=true in production).

const PRODUCTION = {
  NODE_ENV: 'production',
  BYOK_MASTER_KEYS: `1:${crypto.randomBytes(32).toString('base64')}`,
};

describe('settings page over HTTP', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp('sqlite');
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('serves the page with a CSP of this origin only (no inline script or style) and nosniff', async () => {
    const response = await fetch(`${app.url}/settings`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('cache-control')).toBe('no-cache');
    const csp = (response.headers.get('content-security-policy') ?? '').split('; ');
    expect(csp).toEqual(
      expect.arrayContaining([
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
      ]),
    );
    expect(csp.join('; ')).not.toMatch(/https?:|\*|unsafe-/);

    const html = await response.text();
    const urls = [...html.matchAll(/\b(?:src|href)="([^"]*)"/g)].map((match) => match[1]);
    expect(urls.filter((url) => url !== 'data:,')).toEqual([
      expect.stringMatching(/^\/settings\/assets\/settings-[\w]+\.css$/),
      expect.stringMatching(/^\/settings\/assets\/settings-[\w]+\.js$/),
    ]);
    expect(html).not.toMatch(/https?:\/\/|<script>|\son\w+=|style=/i);
  });

  it('serves the bundle with its content type, nosniff and a long cache; nothing else under its prefix', async () => {
    const html = await (await fetch(`${app.url}/settings`)).text();
    const files = [...html.matchAll(/\b(?:src|href)="(\/[^"]*)"/g)].map((match) => match[1]);
    const types: string[] = [];
    for (const file of files) {
      const response = await fetch(`${app.url}${file}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      types.push(response.headers.get('content-type') ?? '');
      const body = await response.text();
      expect(body.length).toBeGreaterThan(1000);
      // Built from local files: the bundle names no other origin to load from.
      expect(body).not.toMatch(/\b(?:src|href)=["']?https?:|cdn\.|unpkg|jsdelivr/i);
    }
    expect(types.sort()).toEqual(['text/css; charset=utf-8', 'text/javascript; charset=utf-8']);
    expect((await fetch(`${app.url}/settings/assets/nope.js`)).status).toBe(404);
    expect((await fetch(`${app.url}/settings/assets/index.html`)).status).toBe(404);
    expect((await fetch(`${app.url}/settings/assets/..%2F..%2Fsrc%2Fmain.ts`)).status).toBe(404);
    // Not a GraphQL endpoint, and only GET/HEAD are the page's.
    expect((await fetch(`${app.url}/settings`, { method: 'POST', body: '{}' })).status).toBe(404);
  });
});

describe('where the settings page is served', () => {
  const pageStatus = async (env: Record<string, string>) => {
    const app = await startTestApp('sqlite', { env });
    try {
      const response = await fetch(`${app.url}/settings`);
      return { status: response.status, html: /<html/i.test(await response.text()) };
    } finally {
      await app.stop();
    }
  };

  it('is off in production unless SETTINGS_PAGE=true, and can be turned off outside it', async () => {
    expect(await pageStatus(PRODUCTION)).toEqual({ status: 404, html: false });
    expect(await pageStatus({ ...PRODUCTION, SETTINGS_PAGE: 'true' })).toEqual({ status: 200, html: true });
    expect(await pageStatus({ SETTINGS_PAGE: 'false' })).toEqual({ status: 404, html: false });
  });

  it('refuses a SETTINGS_PAGE that is not true or false, naming the variable', () => {
    expect(() => loadConfig({ SETTINGS_PAGE: 'yes' })).toThrow(/^SETTINGS_PAGE: expected true or false/);
  });
});

describe('settings page without a built bundle', () => {
  it('warns at start-up and answers 404 saying to run npm run build', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'byok-settings-'));
    const lines: string[] = [];
    const page = loadSettingsPage(pino({}, { write: (line: string) => lines.push(line) }), empty);
    expect(lines.join('')).toMatch(/npm run build/);

    const server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (page.matches(req, url)) page.serve(res, url);
      else res.writeHead(418).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/settings`);
      expect(response.status).toBe(404);
      expect(await response.text()).toMatch(/run `npm run build`/);
    } finally {
      await new Promise((resolve) => server.close(resolve));
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});
