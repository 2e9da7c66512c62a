/**
 * `close({ timeout })` keeps its process alive until it is done: its deadline forces what remains
 * and resolves even when nothing else holds the event loop (the connections' own timers never do).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

it('close({ timeout }) forces a never-answered request and resolves in a process with nothing else to do', async () => {
  const script = fileURLToPath(new URL('./fixtures/close-alone.mjs', import.meta.url));
  const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
    execFile(process.execPath, [script], { timeout: 10_000 }, (err, out) => resolve({ code: err === null ? 0 : ((err as { code?: number }).code ?? null), stdout: out }));
  });
  expect(code).toBe(0);
  expect(JSON.parse(stdout)).toMatchObject({ forced: 1 });
});
