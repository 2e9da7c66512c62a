/**
 * The Agent: one pool per origin behind one dispatcher, for `fetch(url, { dispatcher })` and for
 * undici's `setGlobalDispatcher` (plain `fetch(url)`, Node's and undici's, through tether); a
 * bound on the origins kept, idle pools dropped, pool events re-emitted, close and destroy in
 * both forms, and `request(url)` running on the default agent.
 */
import type { Handler, ServerOptions } from '@tether/server';
import { fetch as undiciFetch, getGlobalDispatcher, setGlobalDispatcher } from 'undici';
import type { Dispatcher } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { Agent, ClientError, closeDefaultPools, getDefaultAgent, request } from '../src/index.js';
import type { AgentOptions } from '../src/index.js';
import { closedPort } from './closed-port.js';
import { eventually } from './outcome.js';
import { Resources } from './resources.js';

const resources = new Resources();
afterEach(() => resources.release());

const tether = (handler: Handler, options?: ServerOptions): Promise<string> => resources.tether(handler, options);

function agent(options: AgentOptions = {}): Agent {
  const a = new Agent(options);
  resources.defer(() => a.destroy());
  return a;
}

/**
 * Node's `RequestInit` types `dispatcher` as undici's whole Dispatcher class (with its request,
 * stream and pipeline helpers); fetch itself calls only `dispatch()`, which tether implements.
 */
const via = (dispatcher: object): RequestInit => ({ dispatcher }) as unknown as RequestInit;

const hello: Handler = (req, res) => res.end(`hello ${req.url}`);

describe('Agent', () => {
  it('serves many origins through one dispatcher, one pool each, for both fetches', async () => {
    const a = await tether(hello);
    const b = await tether(hello);
    const dispatcher = agent({ connections: 2, pipelining: 4 });
    expect(await (await fetch(`${a}/one`, via(dispatcher))).text()).toBe('hello /one');
    expect(await (await undiciFetch(`${b}/two`, { dispatcher: dispatcher as unknown as Dispatcher })).text()).toBe('hello /two');
    expect(await (await fetch(`${b}/three`, via(dispatcher))).text()).toBe('hello /three');
    expect(dispatcher.origins).toEqual([a, b]);
    expect(dispatcher.pool(a).stats().requests).toBe(1);
    expect(dispatcher.pool(b).stats().requests).toBe(2);
  });

  it('as the global dispatcher: plain fetch() (Node and undici) goes through tether, until restored', async () => {
    const origin = await tether(hello);
    const tetherAgent = agent();
    const previous = getGlobalDispatcher();
    setGlobalDispatcher(tetherAgent as unknown as Dispatcher);
    try {
      expect(await (await fetch(`${origin}/node`)).text()).toBe('hello /node');
      expect(await (await undiciFetch(`${origin}/undici`)).text()).toBe('hello /undici');
    } finally {
      setGlobalDispatcher(previous);
    }
    expect(tetherAgent.pool(origin).stats().requests).toBe(2);
    expect(await (await fetch(`${origin}/after`)).text()).toBe('hello /after');
    expect(tetherAgent.pool(origin).stats().requests).toBe(2);
  });

  it('keeps at most maxOrigins pools, closing the least recently used one', async () => {
    const origins = await Promise.all([tether(hello), tether(hello), tether(hello)]);
    const dispatcher = agent({ maxOrigins: 2 });
    for (const origin of [origins[0], origins[1], origins[0], origins[2]]) {
      expect(await (await fetch(`${origin}/x`, via(dispatcher))).text()).toBe('hello /x');
    }
    // origins[1] was the least recently used when origins[2] arrived.
    expect(dispatcher.origins).toEqual([origins[0], origins[2]]);
  });

  it('drops a pool left with no connection once the server closed it idle', async () => {
    const origin = await tether(hello, { keepAliveTimeout: 50 });
    const dispatcher = agent();
    expect(await (await fetch(`${origin}/x`, via(dispatcher))).text()).toBe('hello /x');
    expect(dispatcher.origins).toEqual([origin]);
    await eventually(() => dispatcher.origins.length === 0);
    // A new request makes a fresh pool.
    expect(await (await fetch(`${origin}/y`, via(dispatcher))).text()).toBe('hello /y');
    expect(dispatcher.origins).toEqual([origin]);
  });

  it("re-emits its pools' events with itself first in the targets", async () => {
    const origin = await tether(hello);
    const dispatcher = agent();
    const seen: { event: string; origin: string; targets: unknown[]; err: unknown }[] = [];
    for (const event of ['connect', 'disconnect', 'connectionError'] as const) {
      dispatcher.on(event, (from: string, targets: unknown[], err?: unknown) => seen.push({ event, origin: from, targets, err }));
    }
    await (await fetch(`${origin}/x`, via(dispatcher))).text();
    const pool = dispatcher.pool(origin);
    await dispatcher.close();
    expect(seen.map((s) => s.event)).toEqual(['connect', 'disconnect']);
    expect(seen[0]!.origin).toBe(origin);
    expect(seen[0]!.targets).toEqual([dispatcher, pool]);
    expect(seen[1]!.err).toBeInstanceOf(Error);
    // A refused connection: connectionError, and the request fails with the cause.
    const refused = agent();
    const errors: unknown[] = [];
    refused.on('connectionError', (_o: string, _t: unknown[], err: unknown) => errors.push(err));
    const err: unknown = await fetch(`http://127.0.0.1:${await closedPort()}/`, via(refused)).then(() => null, (e: unknown) => e);
    expect((err as TypeError).cause).toMatchObject({ code: 'TETHER_CONNECT_FAILED' });
    expect(errors).toHaveLength(1);
  });

  it('close() and destroy() take a callback or return a promise; a closed agent refuses requests', async () => {
    const origin = await tether(hello);
    const dispatcher = new Agent();
    await (await fetch(`${origin}/x`, via(dispatcher))).text();
    await new Promise<void>((resolve, reject) => dispatcher.close((err) => (err === null ? resolve() : reject(err))));
    expect(dispatcher.closed).toBe(true);
    expect(dispatcher.destroyed).toBe(false);
    const err: unknown = await fetch(`${origin}/y`, via(dispatcher)).then(() => null, (e: unknown) => e);
    expect((err as TypeError).cause).toBeInstanceOf(ClientError);
    expect((err as TypeError).cause).toMatchObject({ code: 'TETHER_CLOSED' });
    const other = new Agent();
    await (await fetch(`${origin}/z`, via(other))).text();
    await other.destroy();
    expect(other.destroyed).toBe(true);
    const disposed = new Agent();
    await (await fetch(`${origin}/w`, via(disposed))).text();
    await disposed[Symbol.asyncDispose]();
    expect(disposed.closed).toBe(true);
  });

  it('request(url) runs on the default agent', async () => {
    const origin = await tether(hello);
    resources.defer(() => closeDefaultPools());
    expect(await (await request(`${origin}/a`)).text()).toBe('hello /a');
    expect(getDefaultAgent().origins).toContain(origin);
    expect(getDefaultAgent().pool(origin).stats().requests).toBe(1);
  });

  it('refuses a bad shared option at once, and an origin it cannot reach through the handler', async () => {
    expect(() => new Agent({ connections: 0 })).toThrow(RangeError);
    expect(() => new Agent({ maxOrigins: 0 })).toThrow(RangeError);
    const err: unknown = await fetch(`https://127.0.0.1:${await closedPort()}/`, via(agent())).then(() => null, (e: unknown) => e);
    expect((err as TypeError).cause).toMatchObject({ code: 'TETHER_INVALID_REQUEST' });
  });
});
