/** The command line: flags, defaults, and clear refusals. */
import { describe, expect, it } from 'vitest';
import { UsageError, parseArgs } from '../src/cli.js';
import { DEFAULT_PARAMS } from '../src/run.js';

describe('parseArgs', () => {
  it('defaults to the issue’s scenario', () => {
    const a = parseArgs([]);
    expect(a.command).toBe('run');
    expect(a.params).toEqual(DEFAULT_PARAMS);
    expect(a.params).toMatchObject({ rttMs: 50, bandwidth: 1_250_000, initialWindow: 14_600, connections: 6 });
    expect(a.report).toBe('report.html');
  });

  it('reads every parameter', () => {
    const a = parseArgs(['--rtt', '100', '--bandwidth', '2', '--iw', '4', '--objects', '12', '--sizes', '1-20', '--strategies', 'serial,pooled', '--repeat', '3', '--connections', '4', '--json', '--report', '-']);
    expect(a.params).toMatchObject({ rttMs: 100, bandwidth: 250_000, initialWindow: 5840, connections: 4, repeat: 3, strategies: ['serial', 'pooled'], page: { objects: 12, minBytes: 1000, maxBytes: 20_000 } });
    expect(a.json).toBe(true);
    expect(a.report).toBeNull();
  });

  it('--quick makes a small page', () => {
    expect(parseArgs(['--quick']).params.page.objects).toBe(10);
  });

  it('sweeps take a list on one axis', () => {
    expect(parseArgs(['sweep', '--rtt', '0,10,50']).sweep).toEqual({ axis: 'rtt', values: [0, 10, 50] });
    expect(parseArgs(['sweep', '--bandwidth', '1,inf']).sweep).toEqual({ axis: 'bandwidth', values: [125_000, Infinity] });
    expect(parseArgs(['sweep', '--slow', '0,300']).sweep).toEqual({ axis: 'slow', values: [0, 300] });
  });

  it('--help, -h and help win over any other argument (they used to be unknown arguments)', () => {
    for (const argv of [['--help'], ['-h'], ['help'], ['sweep', '--help'], ['lab', '-h'], ['--bogus', '--help']]) expect(parseArgs(argv).command, argv.join(' ')).toBe('help');
  });

  it('refuses what it cannot run, with a usage error naming the problem', () => {
    expect(() => parseArgs(['--rtt', 'fast'])).toThrow(UsageError);
    expect(() => parseArgs(['--strategies', 'teleport'])).toThrow(/unknown strategy teleport/);
    expect(() => parseArgs(['sweep'])).toThrow(/sweep needs/);
    expect(() => parseArgs(['--slow', '100'])).toThrow(/sweep axis/);
    expect(() => parseArgs(['lab', 'nope'])).toThrow(/lab needs one of/);
  });
});
