import express from 'express';
import { createServer } from '@tether/server';

const app = express();
app.use(express.json());
app.post('/echo', (req, res) => res.json({ got: req.body as unknown }));

// An Express app is detected: it gets node:http's own req/res over a tether connection.
const server = createServer({ keepAliveMax: 100 }, app);
const { port } = await server.listen({ port: 0, host: '127.0.0.1' });

const res = await fetch(`http://127.0.0.1:${port}/echo`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ hello: 'express' }),
});
console.log(res.status, res.headers.get('keep-alive'), await res.text());

await server.close({ timeout: 1_000 });
