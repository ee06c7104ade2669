import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runNode } from '../support/processes';
import { describeEachDatabase, TestApp } from '../support/test-app';

// CORS_ORIGINS over plain HTTP, as a browser would speak it: the preflight and the headers of the answer
// for listed origins, nothing for any other, CSRF prevention unchanged, and a bad list stopping start-up.
// cors.browser.test.ts shows the same from Chromium.

const LISTED = 'https://app.example.com';
const ALSO_LISTED = 'http://127.0.0.1:5173';
// Written as an operator might (capitals, a trailing slash): browsers send the origin in lower case.
const CORS_ORIGINS = ` https://App.Example.com/ ,${ALSO_LISTED}`;

const corsHeaders = (response: Response) =>
  Object.fromEntries(
    [...response.headers].filter(([name]) => name.startsWith('access-control-') || name === 'vary'),
  );

function preflight(
  app: TestApp,
  origin: string,
  requestHeaders = 'authorization, content-type',
): Promise<Response> {
  return fetch(`${app.url}/graphql`, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': requestHeaders,
    },
  });
}

async function me(app: TestApp, headers: Record<string, string>): Promise<Response> {
  const token = await app.token('user_alice', 'acct_acme');
  return fetch(`${app.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
    body: JSON.stringify({ query: '{ me { userId role } }' }),
  });
}

describeEachDatabase(
  'CORS_ORIGINS',
  (app) => {
    it.each([LISTED, ALSO_LISTED])(
      'answers a preflight from %s with 204 and what the browser needs',
      async (origin) => {
        const response = await preflight(
          app(),
          origin,
          'authorization, content-type, apollo-require-preflight',
        );
        expect(response.status).toBe(204);
        expect(await response.text()).toBe('');
        const headers = corsHeaders(response);
        expect(headers['access-control-allow-origin']).toBe(origin);
        expect(headers['access-control-allow-methods'].split(/,\s*/).sort()).toEqual(['GET', 'POST']);
        expect(headers['access-control-allow-headers'].split(/,\s*/).sort()).toEqual([
          'apollo-require-preflight',
          'authorization',
          'content-type',
        ]);
        expect(Number(headers['access-control-max-age'])).toBeGreaterThan(0);
        expect(headers.vary).toMatch(/^origin$/i);
        // Bearer tokens only: a browser must not be told it may send cookies along.
        expect(headers['access-control-allow-credentials']).toBeUndefined();
      },
    );

    it('echoes a listed origin on the answer, which carries the data', async () => {
      const response = await me(app(), { origin: LISTED });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ data: { me: { userId: 'user_alice', role: 'ADMIN' } } });
      expect(corsHeaders(response)).toEqual({ 'access-control-allow-origin': LISTED, vary: 'Origin' });
    });

    it('echoes it on errors too, so that the page can read what went wrong', async () => {
      const response = await fetch(`${app().url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: LISTED },
        body: '{"query": ',
      });
      expect(response.status).toBe(400);
      expect(corsHeaders(response)).toEqual({ 'access-control-allow-origin': LISTED, vary: 'Origin' });
    });

    it.each([
      'https://evil.example',
      'https://app.example.com.evil.example', // a listed origin as a prefix
      'http://app.example.com', // another scheme
      'https://app.example.com:8443', // another port
      'http://127.0.0.1:5174',
      'null', // sandboxed frames and file: pages
      `${LISTED}, https://evil.example`, // two Origin headers, joined
    ])(
      'gives %s no CORS header at all: its preflight fails and its answers stay unreadable',
      async (origin) => {
        const refused = await preflight(app(), origin);
        expect(refused.status).toBe(403);
        expect(await refused.text()).toMatch(/CORS_ORIGINS/);
        expect(corsHeaders(refused)).toEqual({});
        const answered = await me(app(), { origin });
        expect(corsHeaders(answered)).toEqual({});
      },
    );

    it('adds nothing to requests without an Origin (curl, other services)', async () => {
      const response = await me(app(), {});
      expect(response.status).toBe(200);
      expect(corsHeaders(response)).toEqual({});
    });

    it('keeps CSRF prevention on for listed origins: requests a browser sends without a preflight are refused', async () => {
      // A form-like POST (text/plain) and a GET without apollo-require-preflight.
      const token = await app().token('user_alice', 'acct_acme');
      const simplePost = await fetch(`${app().url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain', origin: LISTED, authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: '{ me { role } }' }),
      });
      expect(simplePost.status).toBe(400);
      expect(await simplePost.text()).toMatch(/Cross-Site Request Forgery/);
      const get = await fetch(`${app().url}/graphql?query=${encodeURIComponent('{ me { role } }')}`, {
        headers: { origin: LISTED },
      });
      expect(get.status).toBe(400);
      // Once preflighted (the header it asks for), the same GET is served.
      const preflighted = await fetch(`${app().url}/graphql?query=${encodeURIComponent('{ me { role } }')}`, {
        headers: { origin: LISTED, 'apollo-require-preflight': 'true', authorization: `Bearer ${token}` },
      });
      expect(preflighted.status).toBe(200);
      expect(await preflighted.json()).toEqual({ data: { me: { role: 'ADMIN' } } });
    });
  },
  { env: { CORS_ORIGINS } },
);

describeEachDatabase('without CORS_ORIGINS', (app) => {
  it('gives no origin a CORS header, and no preflight succeeds', async () => {
    const refused = await preflight(app(), LISTED);
    expect(refused.status).toBe(403);
    expect(corsHeaders(refused)).toEqual({});
    expect(corsHeaders(await me(app(), { origin: LISTED }))).toEqual({});
  });
});

describe('a bad CORS_ORIGINS', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'byok-cors-'));
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it.each([
    ['https://app.example.com/settings', 1], // a path
    ['https://*.example.com', 1], // a wildcard
    ['*', 1],
    ['app.example.com', 1], // no scheme
    ['https://app.example.com,ftp://files.example.com', 2],
    ['https://app.example.com?tab=keys', 1],
  ])('%j stops start-up with one line naming CORS_ORIGINS, the entry and what it expects', (value, entry) => {
    const result = runNode('main.js', [], { DATA_DIR: dataDir, CORS_ORIGINS: value });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(
      /^Configuration error: CORS_ORIGINS: expected comma-separated exact origins such as https:\/\/app\.example\.com/,
    );
    expect(result.stderr).toContain(`entry ${entry} is "${value.split(',')[entry - 1]}"`);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('never echoes a password given in an entry', () => {
    const result = runNode('main.js', [], {
      DATA_DIR: dataDir,
      CORS_ORIGINS: 'https://admin:hunter2-Zq9@app.example.com',
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(
      /^Configuration error: CORS_ORIGINS: entry 1 has a user name or password; expected comma-separated exact origins/,
    );
    expect(result.stderr).not.toMatch(/hunter2|admin/);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });
});
