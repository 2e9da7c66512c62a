/**
 * Theory of operation: a node:http server as the upstream behind a proxy peer. It listens on
 * 127.0.0.1 port 0, counts the connections it accepts (the upstream connections the proxy
 * opened: fewer than requests means the proxy reused them), ignores errors on those sockets (a
 * proxy may reset one), and closes by ending every connection at once, idle or not.
 */

import type http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A node:http server listening on 127.0.0.1. */
export interface NodeUpstream {
  /** Where it listens on 127.0.0.1. */
  readonly port: number;
  /** Connections accepted so far. */
  connections(): number;
  /** Ends every connection and stops listening. */
  close(): Promise<void>;
}

/** Make `server` listen on a free port of 127.0.0.1, counting its connections. */
export async function listenNodeUpstream(server: http.Server): Promise<NodeUpstream> {
  let connections = 0;
  server.on('connection', (socket) => {
    connections++;
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  let closed: Promise<void> | null = null;
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => connections,
    close: () =>
      (closed ??= new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      })),
  };
}
