import Fastify from 'fastify';
import { TetherServer } from '@tether/server';
import { fastifyServerFactory } from '@tether/server/fastify';

// tether's options go to the factory (Fastify's keepAliveTimeout & co. never reach a serverFactory).
const app = Fastify({ serverFactory: fastifyServerFactory({ keepAliveTimeout: 5_000, keepAliveMax: 100 }) });
app.post('/echo', (request) => ({ got: request.body }));

const url = await app.listen({ port: 0, host: '127.0.0.1' });
const res = await fetch(`${url}/echo`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ hello: 'fastify' }),
});
console.log(res.status, res.headers.get('keep-alive'), await res.text());

// app.server is typed as node's http.Server; instanceof narrows it to the TetherServer it is.
if (app.server instanceof TetherServer) console.log(app.server.stats().requests, 'request served by tether');
await app.close();
