import { describe, expect, it } from 'vitest';
import { countsForMa, scale } from '../../../firmware/src/scaling.js';

const loop = { signal: '4-20mA', range: [0, 1000], shuntOhms: 220 } as const;

describe('analog scaling with NAMUR NE43', () => {
  it('scales 4, 12 and 20 mA to the bottom, middle and top of the range', () => {
    expect(scale(countsForMa(4), loop).value).toBeCloseTo(0, -1);
    expect(scale(countsForMa(12), loop).value).toBeCloseTo(500, -1);
    expect(scale(countsForMa(20), loop).value).toBeCloseTo(1000, -1);
    expect(scale(countsForMa(12), loop).flag).toBe('N');
  });

  it('a broken wire (0 mA) and a current below 3.6 mA are faults D with no value', () => {
    expect(scale(0, loop)).toMatchObject({ value: null, flag: 'D', signal: 0 });
    expect(scale(countsForMa(3.4), loop)).toMatchObject({ value: null, flag: 'D' });
  });

  it('a current above 21 mA is a fault D; between 20.5 and 21 mA it is above range T', () => {
    expect(scale(countsForMa(21.6), loop)).toMatchObject({ value: null, flag: 'D' });
    expect(scale(countsForMa(20.8), loop)).toMatchObject({ value: 1000, flag: 'T' });
  });

  it('reads a 0-10 V input through the 2:1 divider', () => {
    const v = { signal: '0-10V', range: [0, 50], shuntOhms: 220 } as const;
    expect(scale(512, v).value).toBeCloseTo(25, 0);
    expect(scale(1023, v).flag).toBe('N');
  });
});
