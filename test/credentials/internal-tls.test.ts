import crypto from 'node:crypto';
import fs from 'node:fs';
import { Agent, request } from 'undici';
import { makeCertificates, type Certificates } from '../support/certificates';
import { runNode, startServiceProcess } from '../support/processes';
import { startTestApp, TestApp } from '../support/test-app';

// The internal listener over TLS and mutual TLS, with certificates made for this run; and the production
// rule that it never speaks plaintext unless a sidecar or mesh is said to encrypt (INTERNAL_PLAINTEXT).

const RESOLVE = '/internal/v1/credentials/resolve';

describe('the internal credential API over mutual TLS (SQLite)', () => {
  let certs: Certificates;
  let stranger: Certificates; // another CA, with a client certificate of its own
  let app: TestApp;
  let token: string;

  beforeAll(async () => {
    certs = makeCertificates('internal');
    stranger = makeCertificates('stranger');
    app = await startTestApp('sqlite', {
      env: {
        INTERNAL_PORT: '0',
        INTERNAL_TLS_CERT: certs.serverCert,
        INTERNAL_TLS_KEY: certs.serverKey,
        INTERNAL_TLS_CA: certs.ca,
      },
    });
    token = await app.serviceToken('analysis', ['credentials:resolve']);
  }, 60_000);
  afterAll(async () => {
    await app?.stop();
    certs?.remove();
    stranger?.remove();
  });

  /** POST resolve with these client certificate files (none: no client certificate). */
  async function resolveWith(client?: { cert: string; key: string }) {
    const dispatcher = new Agent({
      connect: {
        ca: fs.readFileSync(certs.ca),
        ...(client ? { cert: fs.readFileSync(client.cert), key: fs.readFileSync(client.key) } : {}),
      },
    });
    try {
      const answer = await request(`${app.internalUrl}${RESOLVE}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ accountId: 'acct_acme', task: 'ANALYSIS' }),
        dispatcher,
      });
      return { status: answer.statusCode, json: (await answer.body.json()) as any };
    } finally {
      await dispatcher.close();
    }
  }

  it('serves a client with a certificate from INTERNAL_TLS_CA', async () => {
    expect(app.internalUrl).toMatch(/^https:\/\//);
    const answer = await resolveWith({ cert: certs.clientCert, key: certs.clientKey });
    // No key of its own and no built-in key here: the API itself answered, through TLS.
    expect(answer).toEqual({
      status: 409,
      json: { error: expect.objectContaining({ code: 'NO_USABLE_CREDENTIAL' }) },
    });
  });

  it('fails the handshake of a client without a certificate, or with one from another CA', async () => {
    await expect(resolveWith()).rejects.toThrow();
    await expect(resolveWith({ cert: stranger.clientCert, key: stranger.clientKey })).rejects.toThrow();
  });

  it('does not speak plaintext on the TLS port', async () => {
    const plain = app.internalUrl!.replace(/^https:/, 'http:');
    await expect(fetch(`${plain}${RESOLVE}`, { method: 'POST' })).rejects.toThrow();
  });
});

describe('the internal listener in production', () => {
  const production = {
    NODE_ENV: 'production',
    AUTH_JWT_SECRET: 'x'.repeat(40),
    BYOK_MASTER_KEYS: `1:${crypto.randomBytes(32).toString('base64')}`,
    INTERNAL_PORT: '0',
  };

  it('refuses to start without TLS, naming what to set', () => {
    const result = runNode('main.js', [], { ...production, DATA_DIR: fs.mkdtempSync('/tmp/byok-prod-') });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(
      /^Configuration error: INTERNAL_PORT: in production the internal credential API needs TLS \(INTERNAL_TLS_CERT, INTERNAL_TLS_KEY\), or INTERNAL_PLAINTEXT=true/,
    );
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('starts in plaintext when INTERNAL_PLAINTEXT=true says a sidecar encrypts', async () => {
    const service = await startServiceProcess({
      ...production,
      INTERNAL_PLAINTEXT: 'true',
      DATA_DIR: fs.mkdtempSync('/tmp/byok-prod-'),
    });
    try {
      const listening = /"url":"(http:\/\/[^"]+\/internal\/v1\/)","msg":"internal credential API listening"/;
      for (let waited = 0; !listening.test(service.output()) && waited < 2_000; waited += 50) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const url = listening.exec(service.output())?.[1];
      expect(url).toBeDefined();
      const described = await fetch(`${url}openapi.json`);
      expect(described.status).toBe(200);
      expect(((await described.json()) as { openapi: string }).openapi).toBe('3.1.0');
    } finally {
      service.child.kill('SIGTERM');
      expect(await service.exited).toBe(0);
    }
  });
});
