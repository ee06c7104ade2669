import net from 'node:net';
import { startTestApp, TestApp } from '../support/test-app';

// Slow or idle clients must not hold the service's sockets: a body that trickles in, headers that never
// end, and connections past HTTP_MAX_CONNECTIONS are cut off (Node's own 300 s default would keep them).

/** Opens a raw connection to the service; resolves with what it received once the service closes it. */
function connect(app: TestApp) {
  const url = new URL(app.url);
  const socket = net.connect(Number(url.port), url.hostname);
  let received = '';
  socket.on('data', (chunk) => (received += chunk.toString()));
  socket.on('error', () => undefined);
  const started = Date.now();
  const closed = new Promise<{ received: string; afterMs: number }>((resolve) =>
    socket.on('close', () => resolve({ received, afterMs: Date.now() - started })),
  );
  return { socket, closed, ready: new Promise<void>((resolve) => socket.once('connect', () => resolve())) };
}

describe('connection limits (SQLite)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp('sqlite', {
      env: { HTTP_HEADERS_TIMEOUT_MS: '1000', HTTP_REQUEST_TIMEOUT_MS: '2000', HTTP_MAX_CONNECTIONS: '3' },
    });
  });
  afterAll(() => app.stop());

  it('cuts off a request whose body trickles in past HTTP_REQUEST_TIMEOUT_MS with 408', async () => {
    const client = connect(app);
    await client.ready;
    client.socket.write(
      'POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{',
    );
    const drip = setInterval(() => client.socket.writable && client.socket.write(' '), 200);
    try {
      const { received, afterMs } = await client.closed;
      expect(received).toMatch(/^HTTP\/1\.1 408/);
      expect(afterMs).toBeGreaterThanOrEqual(1900);
      expect(afterMs).toBeLessThan(6000);
    } finally {
      clearInterval(drip);
    }
    // The service is still there for everyone else.
    expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
    expect(app.logs.filter((line) => /"level":50/.test(line))).toEqual([]);
  }, 15_000);

  it('cuts off headers that never end after HTTP_HEADERS_TIMEOUT_MS', async () => {
    const client = connect(app);
    await client.ready;
    client.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    const { received, afterMs } = await client.closed;
    expect(received).toMatch(/^HTTP\/1\.1 408/);
    expect(afterMs).toBeLessThan(5000);
  }, 15_000);

  it('closes connections beyond HTTP_MAX_CONNECTIONS at once', async () => {
    const held = [connect(app), connect(app), connect(app)];
    await Promise.all(held.map((client) => client.ready));
    await new Promise((resolve) => setTimeout(resolve, 100)); // the server has accepted all three
    const extra = connect(app);
    const { received, afterMs } = await extra.closed;
    expect(received).toBe('');
    expect(afterMs).toBeLessThan(1000);
    for (const client of held) client.socket.destroy();
    await Promise.all(held.map((client) => client.closed));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
  }, 15_000);
});
