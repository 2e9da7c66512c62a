/**
 * Theory of operation: the harness of the Fastify suites (`fastify-lifecycle.test.ts`,
 * `fastify-plugins.test.ts`), which run each scenario against Fastify on tether and on node:http
 * and expect the same. `FASTIFY_SERVERS` is what they `describe.each` over; `fastifyApps`, called
 * in a `describe` block, starts a fresh app per test and closes what the test opened after it:
 * agents and sockets first, so that no app's close() waits on a test's client, then the apps.
 */

import type http from 'node:http';
import type net from 'node:net';

import Fastify from 'fastify';
import type { FastifyHttpOptions, FastifyInstance } from 'fastify';
import { fastifyServerFactory } from '../src/fastify.js';
import { keepAliveAgent, openedPerTest } from './http-helpers.js';

/** Fastify on tether (its `serverFactory`) and on node:http (Fastify's default). */
export const FASTIFY_SERVERS: readonly { readonly name: string; readonly options: () => FastifyHttpOptions<http.Server> }[] = [
  { name: 'tether', options: () => ({ serverFactory: fastifyServerFactory() }) },
  { name: 'node:http', options: () => ({}) },
];

/** A started app, its port, and a keep-alive agent (one socket) for the test's requests. */
export interface StartedApp {
  readonly app: FastifyInstance;
  readonly port: number;
  readonly agent: http.Agent;
}

/** What {@link fastifyApps} gives a `describe` block. */
export interface FastifyApps {
  /** The apps started in this test; one a test closes itself it takes out of here. */
  readonly apps: FastifyInstance[];
  /** Agents and sockets the test opened, destroyed after it. */
  readonly agents: http.Agent[];
  readonly sockets: net.Socket[];
  /** A Fastify app with the block's options, `setup`'s routes and plugins, listening on 127.0.0.1 port 0. */
  readonly start: (setup: (app: FastifyInstance) => unknown) => Promise<StartedApp>;
}

/** Per test of the calling `describe` block: start apps with `options`; close all after the test. */
export function fastifyApps(options: () => FastifyHttpOptions<http.Server>): FastifyApps {
  const { servers: apps, agents, sockets } = openedPerTest((app: FastifyInstance) => app.close());

  async function start(setup: (app: FastifyInstance) => unknown): Promise<StartedApp> {
    const app = Fastify(options());
    apps.push(app);
    await setup(app);
    await app.listen({ port: 0, host: '127.0.0.1' });
    const agent = keepAliveAgent(agents);
    const address = app.addresses()[0];
    if (address === undefined || typeof address === 'string') throw new Error('not listening on TCP');
    return { app, port: address.port, agent };
  }

  return { apps, agents, sockets, start };
}
