/** What the text output says about the model's measured input. */
import { describe, expect, it } from 'vitest';
import { describeWork } from '../src/format.js';

describe('describeWork', () => {
  it('says the machine work was measured, with its figures', () => {
    expect(describeWork([{ requestMs: 2.71, connectMs: 1.04 }])).toBe("The model includes this machine's own work, measured on loopback just before each page load: 2.7 ms per request, 1.0 ms more per new connection.");
  });

  it('gives the range over the page loads', () => {
    expect(
      describeWork([
        { requestMs: 2.71, connectMs: 1.04 },
        { requestMs: 3.2, connectMs: 1.04 },
      ]),
    ).toBe("The model includes this machine's own work, measured on loopback just before each page load: 2.7–3.2 ms per request, 1.0 ms more per new connection.");
  });
});
