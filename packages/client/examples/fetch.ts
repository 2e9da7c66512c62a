import { createServer } from '@tether/server';
import { Agent, Pool } from '@tether/client';

// A server to talk to: it closes each connection after 5 requests (Keep-Alive max).
const server = createServer({ keepAliveMax: 5 }, (req, res) => res.end(`hello ${req.url}`));
const { port } = await server.listen({ port: 0, host: '127.0.0.1' });
const origin = `http://127.0.0.1:${port}`;

// One origin: a Pool is fetch's dispatcher. Node's RequestInit types `dispatcher` as undici's
// whole Dispatcher class (request(), stream(), …); fetch only calls dispatch(), which tether
// implements, hence the cast (in JavaScript, just `{ dispatcher: pool }`).
const pool = new Pool(origin, { connections: 2, pipelining: 4 });
const withPool = { dispatcher: pool } as unknown as RequestInit;
const texts = await Promise.all(
  Array.from({ length: 20 }, async (_, i) => {
    const res = await fetch(`${origin}/item/${i}`, withPool);
    return res.text();
  }),
);
console.log(texts[0], '…', texts[19]);
const stats = pool.stats();
console.log(`${stats.requests} responses, ${stats.pipelinedRequests > 0 ? 'some' : 'none'} pipelined, ${stats.retries} re-sent`);
await pool.close();

// Any origin: an Agent keeps one Pool per origin, with shared options.
const agent = new Agent({ connections: 4, pipelining: 4 });
const res = await fetch(`${origin}/via-agent`, { dispatcher: agent } as unknown as RequestInit);
console.log(res.status, await res.text());
await agent.close();
await server.close({ timeout: 1_000 });
