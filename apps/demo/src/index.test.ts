import { describe, expect, it } from 'vitest';

import { PACKAGE } from './index.js';

describe('@tether/demo placeholder', () => {
  it('exports its package name', () => {
    expect(PACKAGE).toBe('@tether/demo');
  });
});
