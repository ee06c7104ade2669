import http from 'node:http';
import https from 'node:https';
import { AddressInfo } from 'node:net';
import { Logger } from 'pino';
import { Config } from './config';

// What every listener of the service shares (the public GraphQL one, the internal credential API, the
// metrics one): limits on slow and idle clients and on connections, bodies read within a size, and a
// drain on close that lets in-flight requests finish. The handlers are the listeners' own.

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`The request body exceeds ${limit} bytes.`);
  }
}

/** The client went away (or was cut off by a timeout) before its body arrived: nobody to answer. */
export class ClientGoneError extends Error {}

export function readBody(req: http.IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const collect = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      // The rest is read and dropped, so that the 413 answer can be written.
      req.off('data', collect).resume();
      reject(new BodyTooLargeError(limit));
    };
    req
      .on('data', collect)
      .once('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
      .once('error', () => reject(new ClientGoneError()))
      .once('close', () => req.complete || reject(new ClientGoneError()));
  });
}

export function sendJson(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: http.OutgoingHttpHeaders = {},
): void {
  res
    .writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8' })
    .end(JSON.stringify(body));
}

export interface ListenerOptions {
  host: string;
  port: number;
  http: Config['http'];
  /** TLS (with `ca`, `requestCert` and `rejectUnauthorized` for mutual TLS); plain HTTP without. */
  tls?: https.ServerOptions;
  logger: Logger;
  /** Answers one request; it counts as in flight until the promise settles. */
  handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void>;
  /** Answers what `handle` threw and could not answer itself (a body over the limit, a fault). */
  fail(error: unknown, req: http.IncomingMessage, res: http.ServerResponse): void;
}

export interface Listener {
  url: string;
  port: number;
  /** True once close() began: answers say `connection: close`, readiness says shutting down. */
  readonly closing: boolean;
  /** Stops accepting connections and waits for in-flight requests to finish. */
  close(): Promise<void>;
}

export async function startListener(options: ListenerOptions): Promise<Listener> {
  const { headersTimeoutMs, requestTimeoutMs, maxConnections } = options.http;
  let inFlight = 0;
  let closing = false;
  let drained: (() => void) | undefined;

  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    inFlight += 1;
    if (closing) res.setHeader('connection', 'close');
    options
      .handle(req, res)
      .catch((error) => {
        if (error instanceof ClientGoneError) {
          return options.logger.info({ path: req.url }, 'client went away before its request was complete');
        }
        if (error instanceof BodyTooLargeError) res.setHeader('connection', 'close');
        else options.logger.error({ err: error }, 'unhandled error in HTTP handler');
        if (res.headersSent) res.destroy();
        else options.fail(error, req, res);
      })
      .finally(() => {
        inFlight -= 1;
        if (closing && inFlight === 0) drained?.();
      });
  };
  // Node answers 408 and closes a connection whose headers or whole request take longer than these; it
  // checks every connectionsCheckingInterval (30 s by default, far coarser than the timeouts).
  const limits = {
    headersTimeout: headersTimeoutMs,
    requestTimeout: requestTimeoutMs,
    connectionsCheckingInterval: 1_000,
  };
  const server = options.tls
    ? https.createServer({ ...limits, ...options.tls }, onRequest)
    : http.createServer(limits, onRequest);
  server.keepAliveTimeout = 5_000;
  // Connections past this are closed as they arrive, before a byte is read.
  server.maxConnections = maxConnections;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;

  return {
    url: `${options.tls ? 'https' : 'http'}://${host}:${port}`,
    port,
    get closing() {
      return closing;
    },
    async close() {
      closing = true;
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      if (inFlight > 0) await new Promise<void>((resolve) => (drained = resolve));
      server.closeIdleConnections();
      await stopped;
    },
  };
}
