/**
 * Regression (fixed here): the shutdown report counts a connection twice when close({ timeout }) < lingerTimeout.
 * An idle connection is counted in closedIdle and half-closed; if its peer does not close its
 * side (a half-open client), the connection is still lingering at the deadline, force() marks it
 * 'forced' and it is counted again. drained is computed as the remainder, so it goes negative:
 * { closedIdle: 1, drained: -1, forced: 1 }. (The deadline also destroys a connection that had
 * already been closed gracefully, and counts it in stats().closedBy.forced.)
 */
import { afterEach, expect, it } from 'vitest';
import { Resources, sleep } from '../tcp-helpers.js';

const resources = new Resources();
afterEach(() => resources.release());

it('an idle half-open client at shutdown is closedIdle only', async () => {
  const { port, server } = await resources.server((req, res) => { res.end('x'); });
  await resources.connect(port, { allowHalfOpen: true });
  await sleep(50);
  const report = await server.close({ timeout: 500 }); // < lingerTimeout (default 2000)
  expect(report).toEqual({ closedIdle: 1, drained: 0, forced: 0, requestsCompleted: 0 });
});
