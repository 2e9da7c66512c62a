import { describe, expect, it } from 'vitest';

import { runTimeWait } from '../../src/labs/time-wait.js';

describe('time-wait lab', () => {
  it('leaves TIME_WAIT on the side that closed first, one for a persistent connection', async () => {
    const result = await runTimeWait({ quick: true });
    const { clientFirst, serverFirst, persistent, procAvailable } = result.data;
    expect(clientFirst.connections).toBe(200);
    expect(serverFirst.connections).toBe(200);
    expect(persistent).toMatchObject({ requests: 200, connections: 1 });
    if (!procAvailable) return;
    expect(clientFirst.timeWait?.client).toBeGreaterThanOrEqual(190);
    expect(clientFirst.timeWait?.server).toBe(0);
    expect(serverFirst.timeWait?.server).toBeGreaterThanOrEqual(190);
    expect(serverFirst.timeWait?.client).toBe(0);
    expect(persistent.timeWait).toEqual({ client: 1, server: 0 });
    expect(result.ok).toBe(true);
  }, 30_000);
});
