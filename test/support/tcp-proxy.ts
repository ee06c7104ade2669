import net from 'node:net';

// A proxy in front of MariaDB that a test can cut and restore: the database "goes away" for this
// service alone, without disturbing the server the rest of the suite shares. It listens on a loopback
// port, or on a Unix socket when given a path.

export interface TcpProxy {
  port: number;
  /** How many connections it has accepted. */
  accepted(): number;
  /** Drops every open connection and refuses new ones. */
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(
  targetHost: string,
  targetPort: number,
  socketPath?: string,
): Promise<TcpProxy> {
  const pairs = new Set<[net.Socket, net.Socket]>();
  let up = true;
  let accepted = 0;
  const server = net.createServer((client) => {
    accepted += 1;
    if (!up) return client.destroy();
    const upstream = net.connect(targetPort, targetHost);
    const pair: [net.Socket, net.Socket] = [client, upstream];
    pairs.add(pair);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) =>
    socketPath ? server.listen(socketPath, resolve) : server.listen(0, '127.0.0.1', resolve),
  );
  const cut = () => {
    up = false;
    for (const [client, upstream] of pairs) {
      client.destroy();
      upstream.destroy();
    }
    pairs.clear();
  };
  return {
    port: socketPath ? 0 : (server.address() as net.AddressInfo).port,
    accepted: () => accepted,
    cut,
    restore: () => {
      up = true;
    },
    close: () => {
      cut();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
