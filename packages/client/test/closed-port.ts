/**
 * A port on 127.0.0.1 that nothing listens on (connecting to it is refused): bound on port 0,
 * then closed. fetch refuses the spec's "bad ports", such as 1, so tests use this instead.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';

/** A port nothing listens on. */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
