import { Connection, NEED_DATA } from '@tether/protocol';

// A client and a server, back to back: what one side sends, the other receives.
const client = new Connection('client');
const server = new Connection('server');

// The client pipelines two GETs in one write.
const wire = [
  ...client.send({ type: 'request', method: 'GET', target: '/a', headers: { host: 'example.test' } }),
  ...client.send({ type: 'end-of-message' }),
  ...client.send({ type: 'request', method: 'GET', target: '/b', headers: { host: 'example.test', connection: 'close' } }),
  ...client.send({ type: 'end-of-message' }),
];
for (const bytes of wire) server.receiveData(bytes);

// The server reads both requests before answering, then answers in order.
const targets: string[] = [];
for (let e = server.nextEvent(); e !== NEED_DATA; e = server.nextEvent()) {
  if (typeof e === 'symbol') break;
  if (e.type === 'request') targets.push(e.target);
}
for (const target of targets) {
  const body = new TextEncoder().encode(`you asked for ${target}\n`);
  client.receiveData(server.sendMessage({ type: 'response', status: 200, headers: { 'content-type': 'text/plain' } }, body));
}

// The client reads both responses; the second carries `Connection: close` because /b asked for it.
for (let e = client.nextEvent(); typeof e !== 'symbol'; e = client.nextEvent()) {
  if (e.type === 'response') console.log(e.status, e.headers.get('connection') ?? 'keep-alive');
  if (e.type === 'data') console.log(new TextDecoder().decode(e.data).trim());
}
console.log('server:', server.ourState, 'client:', client.ourState); // server: MUST_CLOSE client: MUST_CLOSE
