import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Webhook } from 'standardwebhooks';

// The platform's webhook endpoint, on loopback: records every POST as it arrives and answers as the
// test scripts it. Its /elsewhere path is where its redirects point, to show whether one was followed.

/** The WEBHOOK_SECRET of the tests: whsec_ and the base64 of 32 bytes. */
export const SECRET = `whsec_${Buffer.from('test-webhook-secret-of-32-bytes!').toString('base64')}`;

export interface ReceivedWebhook {
  path: string;
  headers: IncomingHttpHeaders;
  /** The raw body, as the signature covers it. */
  body: string;
  /** Arrival time (ms since the epoch). */
  at: number;
}

/**
 * Verifies a delivery as a receiver does, with the standardwebhooks package (under SECRET, or the
 * secret given); the parsed body.
 */
export function verifiedWith(secret: string, delivery: ReceivedWebhook): Record<string, any> {
  const headers = {
    'webhook-id': String(delivery.headers['webhook-id']),
    'webhook-timestamp': String(delivery.headers['webhook-timestamp']),
    'webhook-signature': String(delivery.headers['webhook-signature']),
  };
  return new Webhook(secret).verify(delivery.body, headers) as Record<string, any>;
}

export const verified = (delivery: ReceivedWebhook) => verifiedWith(SECRET, delivery);

/** 2xx/4xx/5xx status, a 302 to /elsewhere, no answer at all, or a status after a delay. */
export type Reply = number | 'redirect' | 'hang' | { afterMs: number; status: number };

export class WebhookReceiver {
  /** The endpoint to give the service (WEBHOOK_URL). */
  url = '';
  readonly received: ReceivedWebhook[] = [];
  /** Requests that reached /elsewhere: a redirect that was followed. */
  readonly redirected: ReceivedWebhook[] = [];
  /** How to answer the n-th request to the endpoint (0-based, counted since the last reset). */
  reply: (request: ReceivedWebhook, index: number) => Reply = () => 200;

  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => this.answer(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();

  static async start(): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver();
    receiver.server.on('connection', (socket) => {
      receiver.sockets.add(socket);
      socket.on('close', () => receiver.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
    receiver.url = `http://127.0.0.1:${(receiver.server.address() as AddressInfo).port}/hooks`;
    return receiver;
  }

  /** Resolves once `count` requests have arrived, or rejects after `timeoutMs`. */
  async waitFor(count: number, timeoutMs = 10_000): Promise<ReceivedWebhook[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < count) {
      if (Date.now() > deadline) throw new Error(`expected ${count} webhook(s), got ${this.received.length}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return this.received.slice(0, count);
  }

  reset(): void {
    this.received.length = 0;
    this.redirected.length = 0;
    this.reply = () => 200;
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private answer(req: http.IncomingMessage, res: http.ServerResponse, body: string): void {
    const request = { path: req.url ?? '', headers: req.headers, body, at: Date.now() };
    if (request.path === '/elsewhere') {
      this.redirected.push(request);
      res.writeHead(200).end();
      return;
    }
    const reply = this.reply(request, this.received.push(request) - 1);
    if (reply === 'hang') return; // the connection stays open until the client gives up
    if (reply === 'redirect') {
      res.writeHead(302, { location: this.url.replace(/\/hooks$/, '/elsewhere') }).end();
      return;
    }
    const { afterMs, status } = typeof reply === 'number' ? { afterMs: 0, status: reply } : reply;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!res.destroyed) res.writeHead(status, { 'content-type': 'text/plain' }).end('ok');
    }, afterMs);
    this.timers.add(timer);
  }
}
