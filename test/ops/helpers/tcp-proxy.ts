import { createServer, connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export type ProxyMode = 'open' | 'refuse' | 'blackhole';

/**
 * A loopback TCP proxy the test controls, to take a dependency away without touching the
 * machine's server: `refuse` resets every connection (a crashed server), `blackhole` accepts
 * and swallows bytes (a network partition: the nastiest case, nothing ever answers).
 */
export async function createTcpProxy(target: { host: string; port: number }) {
  let mode: ProxyMode = 'open';
  const sockets = new Set<Socket>();
  const track = (s: Socket) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
  };
  const server = createServer((client) => {
    track(client);
    if (mode === 'refuse') return void client.destroy();
    if (mode === 'blackhole') return void client.on('data', () => {});
    const upstream = connect(target.port, target.host);
    track(upstream);
    client.on('data', (d) => {
      if (mode === 'open') upstream.write(d);
    });
    upstream.on('data', (d) => {
      if (mode === 'open') client.write(d);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const destroyAll = () => {
    for (const s of sockets) s.destroy();
  };
  return {
    port: (server.address() as AddressInfo).port,
    get mode() {
      return mode;
    },
    /** Takes the dependency away; existing connections are reset (`refuse`) or go silent (`blackhole`). */
    cut(how: Exclude<ProxyMode, 'open'>) {
      mode = how;
      if (how === 'refuse') destroyAll();
    },
    /** Brings it back; connections that went silent are reset (their protocol state is lost). */
    restore() {
      if (mode === 'blackhole') destroyAll();
      mode = 'open';
    },
    async close() {
      destroyAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
