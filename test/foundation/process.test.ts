import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { dropMysqlDatabase, freshMysqlUrl } from '../support/mysql';
import { runNode, startServiceProcess } from '../support/processes';

// The service as an operator runs it: configuration mistakes, the token command, the embedded and the
// MySQL database, and a SIGTERM that lets an in-flight request finish before exiting 0.

const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'byok-proc-'));

async function me(url: string, token: string): Promise<any> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: '{ me { role plan } }' }),
  });
  return response.json();
}

describe('configuration errors', () => {
  it.each([
    [{ PORT: 'abc' }, /^Configuration error: PORT: expected a whole number from 0 to 65535, got "abc"\n$/],
    [
      { DATABASE_URL: 'postgres://x/y' },
      /^Configuration error: DATABASE_URL: expected mysql:\/\/user:pass@host:port\/database/,
    ],
    [
      { DATABASE_URL: 'mysql://root@db/byok?ssl=true' },
      /^Configuration error: DATABASE_URL: unknown parameter "ssl": the parameters are socket=\/path\/to\/mysqld.sock, ssl-mode=REQUIRED\|VERIFY_CA\|VERIFY_IDENTITY and ssl-ca=/,
    ],
    [
      { DATABASE_URL: 'mysql://root@localhost/byok?socket=mysqld.sock' },
      /^Configuration error: DATABASE_URL: socket must be an absolute path/,
    ],
    [{ AUTH_JWT_SECRET: 'short' }, /^Configuration error: AUTH_JWT_SECRET: expected at least 32 bytes/],
    [
      { NODE_ENV: 'production', BYOK_MASTER_KEYS: '' },
      /^Configuration error: AUTH_JWT_SECRET: required in production/,
    ],
    [{ LOG_LEVEL: 'loud' }, /^Configuration error: LOG_LEVEL: expected one of/],
    [
      { NODE_ENV: 'production', AUTH_JWT_SECRET: 'x'.repeat(40) },
      /^Configuration error: BYOK_MASTER_KEYS is required in production/,
    ],
    [
      { BYOK_MASTER_KEYS: '1:c2hvcnQ=' },
      /^Configuration error: BYOK_MASTER_KEYS: entry 1 must be .*decodes to 5 bytes/,
    ],
    [
      { GRAPHQL_PLAYGROUND: 'yes' },
      /^Configuration error: GRAPHQL_PLAYGROUND: expected true or false, got "yes"/,
    ],
    [{ BYOK_MASTER_KEYS: '  ' }, /^Configuration error: BYOK_MASTER_KEYS is empty; expected comma-separated/],
    [
      { HTTP_HEADERS_TIMEOUT_MS: '40000' },
      /^Configuration error: HTTP_HEADERS_TIMEOUT_MS: must not exceed HTTP_REQUEST_TIMEOUT_MS \(30000\)/,
    ],
    [{ AUTH_MAX_TOKEN_AGE: '1 fortnight' }, /^Configuration error: AUTH_MAX_TOKEN_AGE: expected a duration/],
  ])('%j stops start-up with one line naming the variable', (env, expected) => {
    const result = runNode('main.js', [], { DATA_DIR: tempDir(), ...env });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(expected);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('configuration errors that would echo a secret', () => {
  it.each([
    [
      'a base URL of another scheme',
      'ftp://operator:hunter2-secret@proxy.example.com/v1',
      /^Configuration error: OPENAI_BASE_URL: expected an http\(s\) URL, got a ftp: URL\n$/,
    ],
    [
      'a base URL that is not a URL',
      'https://operator:hunter2-secret@',
      /^Configuration error: OPENAI_BASE_URL: expected an http\(s\) URL such as/,
    ],
  ])('%s is refused without quoting its password', (_what, value, expected) => {
    const result = runNode('main.js', [], { DATA_DIR: tempDir(), OPENAI_BASE_URL: value });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(expected);
    expect(result.stderr).not.toContain('hunter2');
  });
});

describe('the data folder', () => {
  it('refuses to start on a folder that other users can read, saying how to fix it', () => {
    const dataDir = tempDir();
    fs.chmodSync(dataDir, 0o755);
    const result = runNode('main.js', [], { DATA_DIR: dataDir });
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      `Configuration error: DATA_DIR: ${dataDir} is open to other users (mode 755) and will hold secrets: run chmod 700 "${dataDir}", or point DATA_DIR at a private folder\n`,
    );
    expect(fs.readdirSync(dataDir)).toEqual([]); // nothing was written into it
  });
});

describe('npm run token', () => {
  it('refuses in production', () => {
    const result = runNode('cli/token.js', ['--user', 'user_alice', '--account', 'acct_acme'], {
      NODE_ENV: 'production',
      AUTH_JWT_SECRET: 'x'.repeat(40),
    });
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/refuses to run in production/);
  });

  it('explains its usage when an argument is missing', () => {
    const result = runNode('cli/token.js', ['--user', 'user_alice'], { DATA_DIR: tempDir() });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/usage: npm run token -- --user <user id> --account <account id>/);
  });
});

describe.each(['sqlite', 'mariadb'] as const)('the service process [%s]', (database) => {
  // A data folder the service creates itself, as on a first start.
  const dataDir = path.join(tempDir(), 'data');
  const env: Record<string, string> = { DATA_DIR: dataDir, LOG_LEVEL: 'info' };
  if (database === 'mariadb') env.DATABASE_URL = freshMysqlUrl();

  afterAll(async () => {
    if (env.DATABASE_URL) await dropMysqlDatabase(env.DATABASE_URL);
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves the seeded demo accounts to tokens from `npm run token`, then drains on SIGTERM and exits 0', async () => {
    if (database === 'mariadb') {
      const seeded = runNode('cli/seed.js', [], env);
      expect(seeded.stderr).toBe('');
      expect(seeded.status).toBe(0);
    }
    const service = await startServiceProcess(env);
    try {
      expect(fs.statSync(dataDir).mode & 0o777).toBe(0o700);
      const secretFile = path.join(dataDir, 'jwt-secret');
      expect(fs.statSync(secretFile).mode & 0o777).toBe(0o600);
      expect(fs.statSync(path.join(dataDir, 'master-keys')).mode & 0o777).toBe(0o600);
      if (database === 'sqlite')
        expect(fs.statSync(path.join(dataDir, 'byok.sqlite')).mode & 0o777).toBe(0o600);

      const token = (user: string, account: string) => {
        const result = runNode('cli/token.js', ['--user', user, '--account', account, '--ttl', '10m'], env);
        expect(result.status).toBe(0);
        return result.stdout.trim();
      };
      expect(await me(service.url, token('user_alice', 'acct_acme'))).toEqual({
        data: { me: { role: 'ADMIN', plan: 'GROWTH' } },
      });
      expect(await me(service.url, token('user_bob', 'acct_acme'))).toEqual({
        data: { me: { role: 'MEMBER', plan: 'GROWTH' } },
      });
      expect((await me(service.url, token('user_alice', 'acct_globex'))).errors[0].extensions.code).toBe(
        'FORBIDDEN',
      );
      // Log lines are written in chunks, but a quiet service's lines still reach stdout within moments.
      const operationLines = () =>
        service
          .output()
          .split('\n')
          .filter((line) => line.includes('"msg":"graphql operation"'));
      for (let waited = 0; operationLines().length < 3 && waited < 1_000; waited += 50)
        await new Promise((resolve) => setTimeout(resolve, 50));
      expect(operationLines()).toHaveLength(3);

      // An in-flight request: headers sent, body still coming when SIGTERM arrives.
      const body = JSON.stringify({ query: '{ me { role } }' });
      const { port } = new URL(service.url);
      const socket = net.connect(Number(port), '127.0.0.1');
      let response = '';
      socket.on('data', (chunk) => (response += chunk.toString()));
      const closed = new Promise((resolve) => socket.on('close', resolve));
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.write(
        `POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n` +
          `Authorization: Bearer ${token('user_alice', 'acct_acme')}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 5)}`,
      );
      await new Promise((resolve) => setTimeout(resolve, 200));
      service.child.kill('SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, 300));
      socket.write(body.slice(5));
      await closed;
      expect(response).toMatch(/^HTTP\/1\.1 200/);
      expect(response).toContain('{"data":{"me":{"role":"ADMIN"}}}');
      expect(await service.exited).toBe(0);
    } finally {
      service.child.kill('SIGKILL');
    }
  });
});
