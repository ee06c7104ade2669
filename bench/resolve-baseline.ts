import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { createPool } from 'mysql2/promise';

// The resolve benchmark's baseline: a bare node:http(s) server answering POST
// /internal/v1/credentials/resolve from one indexed SELECT with mysql2, and nothing else (no token,
// validation, decryption, routing or usage).
// Env: PORT, DATABASE_URL, SOCKET (optional), TLS_CERT, TLS_KEY, TLS_CA (optional: the same TLS setting
// as the service it is compared with).

const pool = createPool({
  uri: process.env.DATABASE_URL,
  socketPath: process.env.SOCKET || undefined,
  connectionLimit: 10,
  timezone: 'Z',
});

const BASELINE_SQL = 'SELECT id, provider, version, health FROM provider_keys WHERE account_id = ? LIMIT 1';

async function answer(accountId: string): Promise<unknown> {
  return ((await pool.execute(BASELINE_SQL, [accountId]))[0] as unknown[])[0] ?? null;
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
    answer(accountId)
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
