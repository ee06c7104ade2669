import fs from 'node:fs';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { MeDocument } from '../generated/graphql';
import { loadPlayground } from '../../src/playground/playground.handler';
import { startTestApp, TestApp } from '../support/test-app';

// What a browser gets at GET /graphql, checked over plain HTTP: the page and its bundle, same-origin only,
// with headers that keep them from being sniffed, framed or cached stale; GraphQL requests are untouched.

const HTML = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };

describe('playground over HTTP', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp('sqlite');
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('serves the page to browsers with a same-origin CSP, and only same-origin URLs in it', async () => {
    const response = await fetch(`${app.url}/graphql`, { headers: HTML });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('cache-control')).toBe('no-cache');
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/https?:|\*/);

    const html = await response.text();
    const urls = [...html.matchAll(/\b(?:src|href)="([^"]*)"/g)].map((match) => match[1]);
    expect(urls.length).toBeGreaterThanOrEqual(2);
    // The empty inline icon (data:,) is not a request; everything else is the bundle, on this origin.
    for (const url of urls.filter((url) => url !== 'data:,'))
      expect(url).toMatch(/^\/graphql\/playground\/[\w.-]+$/);
    expect(html).not.toMatch(/https?:\/\/|<script>|\son\w+=/i);
  });

  it('serves the bundle with its content type, nosniff and a long cache (names are content-hashed)', async () => {
    const html = await (await fetch(`${app.url}/graphql`, { headers: HTML })).text();
    const files = [...html.matchAll(/\b(?:src|href)="(\/[^"]*)"/g)].map((match) => match[1]);
    const types = new Set<string>();
    for (const file of files) {
      const response = await fetch(`${app.url}${file}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      types.add(response.headers.get('content-type') ?? '');
      expect((await response.arrayBuffer()).byteLength).toBeGreaterThan(1000);
    }
    expect([...types].sort()).toEqual(['text/css; charset=utf-8', 'text/javascript; charset=utf-8']);
    expect((await fetch(`${app.url}/graphql/playground/nope.js`)).status).toBe(404);
    expect((await fetch(`${app.url}/graphql/playground/..%2Fsrc%2Fmain.js`)).status).toBe(404);
  });

  it('leaves GraphQL requests to Apollo: POST, GET with ?query=, and clients that do not ask for HTML', async () => {
    expect((await app.gql(MeDocument, {}, await app.token('user_alice', 'acct_acme'))).data?.me.role).toBe(
      'ADMIN',
    );
    const getQuery = await fetch(`${app.url}/graphql?query=${encodeURIComponent('{ me { role } }')}`, {
      headers: HTML,
    });
    expect(getQuery.headers.get('content-type')).not.toMatch(/text\/html/);
    const json = await fetch(`${app.url}/graphql`, { headers: { accept: 'application/json' } });
    expect(json.headers.get('content-type')).not.toMatch(/text\/html/);
  });
});

describe('playground turned off (GRAPHQL_PLAYGROUND=false)', () => {
  it('serves neither the page nor the bundle', async () => {
    const app = await startTestApp('sqlite', { env: { GRAPHQL_PLAYGROUND: 'false' } });
    try {
      const page = await fetch(`${app.url}/graphql`, { headers: HTML });
      expect(page.status).not.toBe(200);
      expect(await page.text()).not.toMatch(/<html/i);
      expect((await fetch(`${app.url}/graphql/playground/index.html`)).status).toBe(404);
    } finally {
      await app.stop();
    }
  });
});

describe('playground without a built bundle', () => {
  it('warns at start-up and answers 404 saying to run npm run build', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'byok-playground-'));
    const lines: string[] = [];
    const playground = loadPlayground(pino({}, { write: (line: string) => lines.push(line) }), empty);
    expect(lines.join('')).toMatch(/npm run build/);

    const server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (playground.matches(req, url)) playground.serve(res, url);
      else res.writeHead(418).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`, {
        headers: HTML,
      });
      expect(response.status).toBe(404);
      expect(await response.text()).toMatch(/run `npm run build`/);
    } finally {
      await new Promise((resolve) => server.close(resolve));
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});
