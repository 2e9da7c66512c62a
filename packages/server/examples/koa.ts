import Koa from 'koa';
import { createServer } from '@tether/server';

const app = new Koa();
app.use(async (ctx, next) => {
  await next();
  ctx.set('x-served-by', 'koa on tether');
});
app.use((ctx) => {
  ctx.cookies.set('a', '1');
  ctx.cookies.set('b', '2');
  ctx.body = { path: ctx.path };
});

// Koa reads and calls node's contracts only: it runs on tether's own req/res.
const server = createServer({ keepAliveMax: 100 }, app.callback());
const { port } = await server.listen({ port: 0, host: '127.0.0.1' });

const res = await fetch(`http://127.0.0.1:${port}/hello`);
console.log(res.status, res.headers.get('x-served-by'), await res.text());
console.log(res.headers.getSetCookie().join(' | '));

await server.close({ timeout: 1_000 });
