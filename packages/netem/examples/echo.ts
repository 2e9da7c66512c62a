import net from 'node:net';
import { createLink } from '@tether/netem';

// An echo server on a free port.
const server = net.createServer((socket) => socket.pipe(socket));
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port: serverPort } = server.address() as net.AddressInfo;

// A 100 ms, 1 MB/s path with a 10-segment initial window in front of it.
const link = await createLink({ rtt: 100, bandwidth: 1e6, initialWindow: 10 * 1460 });
const { port } = await link.forward({ host: '127.0.0.1', port: serverPort });

// Two exchanges on one connection, timed in round trips (whole halves elapsed).
const socket = net.connect(port, '127.0.0.1');
const exchange = (text: string): Promise<number> =>
  new Promise((resolve) => {
    const start = performance.now();
    socket.once('data', () => resolve(Math.floor(((performance.now() - start) / 100) * 2) / 2));
    socket.write(text);
  });
console.log('first echo:', await exchange('hello'), 'RTT (handshake + round trip)');
console.log('second echo:', await exchange('again'), 'RTT');
await new Promise((resolve) => socket.end(() => socket.once('close', resolve)));

const { connections, handshakes, bytes } = link.stats();
console.log(connections.opened, 'connection,', handshakes, 'handshake,', bytes.upstream, 'bytes up,', bytes.downstream, 'bytes down');
await link.close();
server.close();
