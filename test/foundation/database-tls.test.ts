import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MeDocument } from '../generated/graphql';
import { loadConfig } from '../../src/config';
import { Certificates, makeCertificates } from '../support/certificates';
import { FakeProviders, startFakeProviders } from '../support/fake-providers';
import { installDataDir, MariadbServer, startMariadb } from '../support/mariadb-server';
import { runNode } from '../support/processes';
import { startTestApp, TEST_JWT_SECRET } from '../support/test-app';

// TLS to the database through DATABASE_URL's ssl-mode and ssl-ca, against mariadbd servers of this
// file's own: one with TLS (a certificate for "localhost" only, signed by a throwaway CA) and one
// without. Slow: initialising a data folder takes about 5 s.

describe('database TLS (DATABASE_URL ssl-mode, ssl-ca)', () => {
  let certs: Certificates;
  let otherCa: Certificates;
  let tlsServer: MariadbServer;
  let plainServer: MariadbServer;
  let providers: FakeProviders;
  const folders: string[] = [];

  beforeAll(async () => {
    certs = makeCertificates('database', ['DNS:localhost']);
    otherCa = makeCertificates('stranger');
    const dataDir = installDataDir();
    const plainDir = `${dataDir}-plain`;
    fs.cpSync(dataDir, plainDir, { recursive: true });
    folders.push(path.dirname(dataDir));
    [tlsServer, plainServer] = await Promise.all([
      startMariadb(dataDir, { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca }),
      startMariadb(plainDir),
    ]);
    providers = await startFakeProviders();
  }, 90_000);
  afterAll(async () => {
    await Promise.all([tlsServer?.stop(), plainServer?.stop()]);
    await providers?.close();
    certs?.remove();
    otherCa?.remove();
    for (const folder of folders) fs.rmSync(folder, { recursive: true, force: true });
  }, 30_000);

  const url = (host: string, port: number, query: string) =>
    `mysql://root@${host}:${port}/byok_tls_${crypto.randomBytes(4).toString('hex')}?${query}`;

  /** Starts the service in this process on that URL, checks the connection, and stops it. */
  async function cipherThrough(databaseUrl: string): Promise<string> {
    const app = await startTestApp('mariadb', { databaseUrl, providers });
    try {
      const me = await app.gql(MeDocument, {}, await app.token('user_alice', 'acct_acme'));
      expect(me.data?.me).toMatchObject({ role: 'ADMIN' });
      const [row] = await app.dataSource.query<{ Value: string }[]>("SHOW STATUS LIKE 'Ssl_cipher'");
      return row.Value;
    } finally {
      await app.stop(true); // keep: stop() would drop the database on the shared server
      fs.rmSync(app.dataDir, { recursive: true, force: true });
    }
  }

  /** Runs the compiled service as an operator does; it must refuse to start. */
  function refusedStart(databaseUrl: string): string[] {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'byok-tls-'));
    folders.push(dataDir);
    const result = runNode('main.js', [], {
      DATABASE_URL: databaseUrl,
      DATA_DIR: dataDir,
      AUTH_JWT_SECRET: TEST_JWT_SECRET,
      BYOK_MASTER_KEYS: `1:${crypto.randomBytes(32).toString('base64')}`,
      PORT: '0',
    });
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    return result.stderr.trimEnd().split('\n');
  }

  it('ssl-mode=REQUIRED encrypts the connection (no certificate check)', async () => {
    expect(await cipherThrough(url('127.0.0.1', tlsServer.port, 'ssl-mode=REQUIRED'))).not.toBe('');
  });

  it('VERIFY_IDENTITY with the right CA and host name connects, encrypted', async () => {
    const query = `ssl-mode=VERIFY_IDENTITY&ssl-ca=${encodeURIComponent(certs.ca)}`;
    expect(await cipherThrough(url('localhost', tlsServer.port, query))).not.toBe('');
  });

  it('VERIFY_CA checks the CA but not the host name', async () => {
    const query = `ssl-mode=VERIFY_CA&ssl-ca=${encodeURIComponent(certs.ca)}`;
    expect(await cipherThrough(url('127.0.0.1', tlsServer.port, query))).not.toBe('');
  });

  it('refuses to start, in one line naming DATABASE_URL, on a host name the certificate does not name', () => {
    // The certificate names localhost only.
    const lines = refusedStart(
      url('127.0.0.1', tlsServer.port, `ssl-mode=VERIFY_IDENTITY&ssl-ca=${certs.ca}`),
    );
    expect(lines).toEqual([
      expect.stringMatching(
        /^Configuration error: DATABASE_URL: ssl-mode=VERIFY_IDENTITY: the server's certificate was refused/,
      ),
    ]);
  });

  it('refuses to start, in one line, on a certificate another CA signed', () => {
    for (const mode of ['VERIFY_CA', 'VERIFY_IDENTITY']) {
      const lines = refusedStart(url('localhost', tlsServer.port, `ssl-mode=${mode}&ssl-ca=${otherCa.ca}`));
      expect(lines).toEqual([
        expect.stringMatching(
          new RegExp(
            `^Configuration error: DATABASE_URL: ssl-mode=${mode}: the server's certificate was refused`,
          ),
        ),
      ]);
    }
  });

  it('refuses to start, in one line, when REQUIRED meets a server without TLS', () => {
    const lines = refusedStart(url('127.0.0.1', plainServer.port, 'ssl-mode=REQUIRED'));
    expect(lines).toEqual([
      'Configuration error: DATABASE_URL: ssl-mode=REQUIRED: the server does not offer TLS; nothing was connected',
    ]);
  });

  it('names DATABASE_URL for an unknown mode, a missing or unreadable CA, and a CA with REQUIRED', () => {
    const config = (query: string) => () =>
      loadConfig({ DATA_DIR: '/tmp/unused', DATABASE_URL: `mysql://u:p@db.example.com:3306/byok?${query}` });
    expect(config('ssl-mode=PREFERRED')).toThrow(
      'DATABASE_URL: ssl-mode must be one of REQUIRED, VERIFY_CA, VERIFY_IDENTITY, got "PREFERRED"',
    );
    expect(config('ssl-mode=VERIFY_IDENTITY')).toThrow(
      /^DATABASE_URL: ssl-mode=VERIFY_IDENTITY needs ssl-ca=/,
    );
    expect(config('ssl-mode=VERIFY_CA&ssl-ca=/nonexistent/ca.pem')).toThrow(
      'DATABASE_URL: ssl-ca: cannot read /nonexistent/ca.pem (ENOENT)',
    );
    expect(config(`ssl-mode=VERIFY_CA&ssl-ca=${certs.dir}`)).toThrow(
      /^DATABASE_URL: ssl-ca: cannot read .* \(EISDIR\)/,
    );
    expect(config(`ssl-mode=VERIFY_CA&ssl-ca=${certs.serverKey}`)).toThrow(/holds no PEM certificate/);
    expect(config(`ssl-mode=REQUIRED&ssl-ca=${certs.ca}`)).toThrow(
      /^DATABASE_URL: ssl-mode=REQUIRED checks no certificate/,
    );
    expect(config('sslmode=require')).toThrow(/^DATABASE_URL: unknown parameter "sslmode"/);
    // Lower case is the mysql client's too; a CA alone asks for the CA to be checked.
    expect(loadConfig({ DATABASE_URL: `mysql://u@h/byok?ssl-mode=required` }).database).toMatchObject({
      tls: { mode: 'REQUIRED' },
    });
    expect(loadConfig({ DATABASE_URL: `mysql://u@h/byok?ssl-ca=${certs.ca}` }).database).toMatchObject({
      url: 'mysql://u@h/byok',
      tls: { mode: 'VERIFY_CA', ca: fs.readFileSync(certs.ca, 'utf8') },
    });
  });
});
