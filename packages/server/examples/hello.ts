import http from 'node:http';
import { createServer } from '@tether/server';

const server = createServer({ keepAliveTimeout: 5_000, keepAliveMax: 100 }, async (req, res) => {
  const body = await req.text(); // the request body, if any
  res.statusCode = 200;
  res.setHeader('content-type', 'text/plain');
  res.end(`${req.method} ${req.url} (${body.length} bytes in)\n`);
});

const { port } = await server.listen({ port: 0, host: '127.0.0.1' });

// Two requests on one keep-alive connection.
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
for (const path of ['/a', '/b']) {
  const { status, keepAlive, text } = await new Promise<{ status: number; keepAlive: string; text: string }>((resolve) => {
    http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, keepAlive: String(res.headers['keep-alive']), text: text.trim() }));
    });
  });
  console.log(status, keepAlive, text);
}
agent.destroy();

const report = await server.close({ timeout: 1_000 }); // graceful: waits for every connection
console.log(server.stats().requests, 'requests on', server.stats().connections.total, 'connection;', report.forced, 'forced');
