import { describe, expect, it } from 'vitest';

import { parseArgs } from '../../src/cli.js';
import { LABS, LAB_NAMES, formatAllLabs, runAllLabs, summaryRow } from '../../src/labs/index.js';
import type { AllLabsResult, LabResult, RegisteredLab } from '../../src/labs/index.js';

/** A lab that measures nothing: its headline echoes its data. */
function fakeLab(shows: string, run: RegisteredLab['run']): RegisteredLab {
  return {
    title: `fake: ${shows}`,
    shows,
    run,
    headline: (r: LabResult) => ({ measured: String(r.data), expected: 'as measured' }),
  };
}

function fakeResult(name: string, ok: boolean, data: string): LabResult {
  return { name, title: name, measured: [], explanation: ['a', 'b'], ok, data };
}

describe('pnpm demo lab all', () => {
  it('is a lab command of its own', () => {
    expect(parseArgs(['lab', 'all'])).toMatchObject({ command: 'lab', lab: 'all' });
    expect(parseArgs(['lab', 'all', '--quick', '--json'])).toMatchObject({ lab: 'all', quick: true, json: true });
    expect(() => parseArgs(['lab'])).toThrow(/lab needs one of: all, nagle/);
  });

  it('runs every lab in the registry order and gives a row per lab from its headline', async () => {
    const order: string[] = [];
    const labs = {
      first: fakeLab('one thing', () => (order.push('first'), Promise.resolve(fakeResult('first', true, '1 ms')))),
      second: fakeLab('another', () => (order.push('second'), Promise.resolve(fakeResult('second', false, '2 ms')))),
    };
    const seen: string[] = [];
    const all = await runAllLabs(labs, { quick: true, onRow: (row, done, total) => seen.push(`${done}/${total} ${row.name}`) });
    expect(order).toEqual(['first', 'second']);
    expect(seen).toEqual(['1/2 first', '2/2 second']);
    expect(all.rows.map((r) => [r.name, r.shows, r.measured, r.expected, r.ok])).toEqual([
      ['first', 'one thing', '1 ms', 'as measured', true],
      ['second', 'another', '2 ms', 'as measured', false],
    ]);
    expect(all.ok).toBe(false);
    expect(all.quick).toBe(true);
  });

  it('turns a lab that throws into a row that says so, and carries on', async () => {
    const labs = {
      broken: fakeLab('nothing', () => Promise.reject(new Error('nginx not found\nmore detail'))),
      fine: fakeLab('something', () => Promise.resolve(fakeResult('fine', true, 'fine'))),
    };
    const all = await runAllLabs(labs);
    expect(all.rows[0]).toMatchObject({ name: 'broken', measured: 'error: nginx not found', ok: false, result: null, error: 'nginx not found\nmore detail' });
    expect(all.rows[1]).toMatchObject({ name: 'fine', ok: true });
  });

  it('prints one table: a header, a rule, one aligned row per lab, and the total', () => {
    const all: AllLabsResult = {
      rows: [
        summaryRow('short', fakeLab('x', () => Promise.reject(new Error())), { result: fakeResult('short', true, '1') }, 12.5),
        summaryRow('a-longer-name', fakeLab('what it shows', () => Promise.reject(new Error())), { error: new Error('boom') }, 1500),
      ],
      ms: 1512.5,
      ok: false,
      quick: false,
    };
    const lines = formatAllLabs(all).split('\n');
    expect(lines).toEqual([
      'lab            shows          measured     expected     ok   time',
      '-------------  -------------  -----------  -----------  ---  -------',
      'short          x              1            as measured  ok   12.5 ms',
      'a-longer-name  what it shows  error: boom  —            NOT  1500 ms',
      '',
      '1 of 2 labs observed their effect in 1513 ms; `pnpm demo lab <name>` explains each.',
    ]);
  });

  it('every registered lab says what it shows', () => {
    for (const name of LAB_NAMES) expect(LABS[name]?.shows, name).toMatch(/^\S.{10,70}$/);
  });

  it('runs a real lab and reports its measured figure beside the expected one', async () => {
    const all = await runAllLabs({ truncated: LABS.truncated! }, { quick: true });
    expect(all.rows).toHaveLength(1);
    const row = all.rows[0]!;
    expect(row).toMatchObject({ name: 'truncated', ok: true });
    expect(row.measured).toBe('Content-Length truncated, chunked truncated, close-delimited complete');
    expect(row.measured).toBe(row.expected);
    expect(row.result?.name).toBe('truncated');
  }, 20_000);
});
