import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { createPool, RowDataPacket } from 'mysql2/promise';
import { createTokenVerifiers } from '../src/auth/jwt';
import { loadConfig } from '../src/config';
import { openKey } from '../src/crypto/envelope';
import { parseKeyring } from '../src/crypto/keyring';
import { createLogger } from '../src/logger';

// The resolve benchmark's baselines, bare node:http(s) servers answering POST
// /internal/v1/credentials/resolve from one indexed SELECT with mysql2:
// - the baseline (FLOOR unset): nothing else (no token, no validation, no decryption, no usage);
// - the floor (FLOOR=1): also what no resolve can skip, done by the project's own code: the service
//   token verified (and remembered, as the service does), the key's sealed columns read and opened
//   under the keyring, one log line. What is left between the floor and the service is the service's
//   own overhead (input validation, routing, the settings read, usage counting, the framework).
// Env: PORT, DATABASE_URL, SOCKET (optional), TLS_CERT, TLS_KEY, TLS_CA (optional: the same TLS setting
// as the service it is compared with); with FLOOR also BYOK_MASTER_KEYS and AUTH_JWT_SECRET.

const pool = createPool({
  uri: process.env.DATABASE_URL,
  socketPath: process.env.SOCKET || undefined,
  connectionLimit: 10,
  timezone: 'Z',
});

const floor = process.env.FLOOR === '1';
const config = floor ? loadConfig(process.env) : undefined;
const verifyService = config && createTokenVerifiers(config).service;
const keyring = config && parseKeyring(process.env.BYOK_MASTER_KEYS!);
const logger = config && createLogger('info');

const BASELINE_SQL = 'SELECT id, provider, version, health FROM provider_keys WHERE account_id = ? LIMIT 1';
const FLOOR_SQL =
  'SELECT id, account_id, provider, version, health, ciphertext, iv, auth_tag, wrapped_key, master_key_version FROM provider_keys WHERE account_id = ? LIMIT 1';

async function answer(accountId: string, authorization: string | undefined): Promise<unknown> {
  if (!floor) return ((await pool.execute(BASELINE_SQL, [accountId]))[0] as unknown[])[0] ?? null;
  await verifyService!(authorization?.replace(/^Bearer /, '') ?? '');
  const [rows] = await pool.execute<RowDataPacket[]>(FLOOR_SQL, [accountId]);
  const row = rows[0];
  if (!row) return null;
  const binding = {
    accountId: row.account_id as string,
    provider: row.provider as string,
    keyId: row.id as string,
  };
  const apiKey = openKey(
    {
      ciphertext: row.ciphertext as Buffer,
      iv: row.iv as Buffer,
      tag: row.auth_tag as Buffer,
      wrappedKey: row.wrapped_key as Buffer,
      masterKeyVersion: row.master_key_version as number,
    },
    binding,
    keyring!,
  );
  logger!.info({ accountId, provider: row.provider as string }, 'resolved');
  return {
    provider: row.provider as string,
    keyId: row.id as string,
    version: row.version as number,
    apiKey,
  };
}

const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    let accountId: string;
    try {
      ({ accountId } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { accountId: string });
    } catch {
      return void res.writeHead(400).end();
    }
    answer(accountId, req.headers.authorization)
      .then((body) => {
        res
          .writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
          .end(JSON.stringify(body));
      })
      .catch((error: unknown) => {
        if (process.env.BENCH_DEBUG) process.stderr.write(`${String(error)}\n`);
        res.writeHead(500).end();
      });
  });
};

const tls = process.env.TLS_CERT
  ? {
      cert: fs.readFileSync(process.env.TLS_CERT),
      key: fs.readFileSync(process.env.TLS_KEY!),
      ...(process.env.TLS_CA
        ? { ca: fs.readFileSync(process.env.TLS_CA), requestCert: true, rejectUnauthorized: true }
        : {}),
    }
  : undefined;
const server = tls ? https.createServer(tls, handler) : http.createServer(handler);
server.keepAliveTimeout = 5_000;
server.listen(Number(process.env.PORT), '127.0.0.1');
