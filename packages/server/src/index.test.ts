import { describe, expect, it } from 'vitest';

import { PACKAGE } from './index.js';

describe('@tether/server placeholder', () => {
  it('exports its package name', () => {
    expect(PACKAGE).toBe('@tether/server');
  });
});
