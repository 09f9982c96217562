import { describe, expect, it } from 'vitest';
import { FlagTally } from '../../../gateway/src/processing/rules.js';
import type { Flag } from '../../../gateway/src/core/flags.js';

const tally = (flags: Flag[]): FlagTally => {
  const t = new FlagTally();
  for (const f of flags) t.add(f);
  return t;
};

describe('FlagTally', () => {
  it('counts each flag and every input', () => {
    const t = tally(['N', 'N', 'B', 'S', 'N']);
    expect([t.get('N'), t.get('B'), t.get('S'), t.get('D'), t.total]).toEqual([3, 1, 1, 0, 5]);
  });

  it('flags a period with enough valid inputs N, or S when a manually set value is among them', () => {
    expect(tally(['N', 'N', 'C']).periodFlag(2, 2)).toBe('N');
    expect(tally(['N', 'S', 'C']).periodFlag(2, 2)).toBe('S');
  });

  it('flags a period short of valid inputs with its most frequent excluded flag, the first by precedence on a tie', () => {
    expect(tally(['N', 'C', 'C', 'M']).periodFlag(1, 2)).toBe('C');
    expect(tally(['C', 'B', 'N']).periodFlag(1, 2)).toBe('B');
  });

  it('flags a period short of inputs with no excluded flag among them D', () => {
    expect(tally(['N']).periodFlag(1, 12)).toBe('D');
    expect(new FlagTally().periodFlag(0, 12)).toBe('D');
  });
});
