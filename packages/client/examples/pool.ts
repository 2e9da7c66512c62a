import { createServer } from '@tether/server';
import { Pool } from '@tether/client';

// A server to talk to: it closes each connection after 4 requests (Keep-Alive max).
const server = createServer({ keepAliveMax: 4 }, (req, res) => res.end(`hello ${req.url}`));
const { port } = await server.listen({ port: 0, host: '127.0.0.1' });

const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 2, pipelining: 4 });
const paths = Array.from({ length: 10 }, (_, i) => `/item/${i}`);
const bodies = await Promise.all(
  paths.map(async (path) => {
    const res = await pool.request({ method: 'GET', path, headers: { accept: 'text/plain' } });
    return `${res.statusCode} ${await res.text()}`;
  }),
);
console.log(bodies[0], '…', bodies[9]);

const stats = pool.stats();
console.log(`${stats.requests} responses, ${stats.connections.opened} connections opened, ${stats.handshakesSaved} handshakes saved, ${stats.retries} re-sent`);
await pool.close(); // finishes queued work, then closes every connection gracefully
await server.close({ timeout: 1_000 });
