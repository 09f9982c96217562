import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RangeSet } from '../../../gateway/src/store/ranges.js';

describe('RangeSet', () => {
  it('merges adjacent and overlapping ranges and counts what was already there', () => {
    const s = new RangeSet();
    expect(s.add(10, 19)).toBe(0);
    expect(s.add(20, 29)).toBe(0);
    expect(s.toArray()).toEqual([[10, 29]]);
    expect(s.add(25, 40)).toBe(5);
    expect(s.add(1, 3)).toBe(0);
    expect(s.toArray()).toEqual([
      [1, 3],
      [10, 40],
    ]);
    expect(s.missingIn(1, 45)).toEqual([
      [4, 9],
      [41, 45],
    ]);
    expect(s.countIn(2, 12)).toBe(5);
    s.dropThrough(11);
    expect(s.toArray()).toEqual([[12, 40]]);
  });

  it('behaves like a plain set of numbers for any sequence of additions', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 20 }))),
        (adds) => {
          const s = new RangeSet();
          const plain = new Set<number>();
          for (const [a, len] of adds) {
            let before = 0;
            for (let n = a; n <= a + len; n++) if (plain.has(n)) before++;
            expect(s.add(a, a + len)).toBe(before);
            for (let n = a; n <= a + len; n++) plain.add(n);
          }
          expect(s.size).toBe(plain.size);
          for (let n = 0; n <= 221; n++) expect(s.has(n)).toBe(plain.has(n));
          const missing = s
            .missingIn(0, 221)
            .flatMap(([a, b]) => Array.from({ length: b - a + 1 }, (_, i) => a + i));
          expect(missing).toEqual(Array.from({ length: 222 }, (_, i) => i).filter((n) => !plain.has(n)));
          const arr = s.toArray();
          for (let i = 1; i < arr.length; i++) expect(arr[i]![0]).toBeGreaterThan(arr[i - 1]![1] + 1);
        },
      ),
    );
  });
});
