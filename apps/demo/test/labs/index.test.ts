import { describe, expect, it } from 'vitest';

import { LABS, LAB_NAMES, formatLab } from '../../src/labs/index.js';
import type { LabResult } from '../../src/labs/index.js';

const result: LabResult = {
  name: 'example',
  title: 'An example',
  measured: [
    { label: 'short', value: '1 ms', raw: 1 },
    { label: 'a longer label', value: '2 ms' },
  ],
  explanation: ['first line', 'second line'],
  ok: true,
  data: null,
};

describe('labs registry', () => {
  it('lists the chapter\'s experiments in order, then slow start and the race behind a proxy', () => {
    expect(LAB_NAMES).toEqual(['nagle', 'time-wait', 'port-exhaustion', 'dumb-proxy', 'truncated', 'reset', 'keep-alive-race', 'slow-start', 'proxy-race']);
    expect(Object.keys(LABS)).toEqual(LAB_NAMES);
    for (const name of LAB_NAMES) {
      expect(LABS[name]?.title).toMatch(/\S/);
      expect(typeof LABS[name]?.run).toBe('function');
    }
  });
});

describe('formatLab', () => {
  it('prints the title, the measured lines aligned, and the two explanation lines', () => {
    expect(formatLab(result)).toBe(
      ['example — An example', '  short           1 ms', '  a longer label  2 ms', '  → first line', '  → second line'].join('\n'),
    );
  });

  it('says so when the effect was not observed', () => {
    const lines = formatLab({ ...result, ok: false }).split('\n');
    expect(lines[3]).toMatch(/^ {2}! the expected effect was not observed/);
    expect(lines).toHaveLength(6);
  });
});
