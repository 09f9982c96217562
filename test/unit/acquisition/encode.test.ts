import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodePoint } from '../../../gateway/src/acquisition/decode.js';
import { encodePoint, type EncodablePoint } from '../../../gateway/src/acquisition/encode.js';
import { isLantianError } from '../../../gateway/src/core/errors.js';

const point = (o: Partial<EncodablePoint>): EncodablePoint & { bits: undefined; bcdFormat: undefined } => ({
  key: 'p',
  function: 3,
  type: 'u16',
  count: 1,
  wordOrder: 'high-first',
  byteOrder: 'big',
  scale: 1,
  offset: 0,
  range: undefined,
  bits: undefined,
  bcdFormat: undefined,
  ...o,
});

const code = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    return isLantianError(e) ? e.code : 'not a LantianError';
  }
  return undefined;
};

describe('encodePoint', () => {
  it('gives the words that decode back to the value, for every integer and float type and order', () => {
    const layouts = [
      { type: 'u16', count: 1, gen: fc.integer({ min: 0, max: 0xffff }) },
      { type: 'i16', count: 1, gen: fc.integer({ min: -0x8000, max: 0x7fff }) },
      { type: 'u32', count: 2, gen: fc.integer({ min: 0, max: 0xffffffff }) },
      { type: 'i32', count: 2, gen: fc.integer({ min: -0x80000000, max: 0x7fffffff }) },
      { type: 'i64', count: 4, gen: fc.integer({ min: -(2 ** 40), max: 2 ** 40 }) },
      { type: 'f32', count: 2, gen: fc.float({ noNaN: true, noDefaultInfinity: true }).map(Math.fround) },
      { type: 'f64', count: 4, gen: fc.double({ noNaN: true, noDefaultInfinity: true }) },
    ] as const;
    for (const l of layouts)
      for (const wordOrder of ['high-first', 'low-first'] as const)
        for (const byteOrder of ['big', 'little'] as const) {
          const p = point({ type: l.type, count: l.count, wordOrder, byteOrder });
          fc.assert(
            fc.property(l.gen, (v) => {
              const value = Object.is(v, -0) ? 0 : v;
              const back = decodePoint(p, encodePoint(p, value)) as number;
              // A float32 decodes to its shortest decimal, which is the same float32.
              expect(l.type === 'f32' ? Math.fround(back) : back).toBe(value);
            }),
            { numRuns: 50 },
          );
        }
  });

  it('puts the high word first or last and swaps bytes as the profile says', () => {
    expect(encodePoint(point({ type: 'u32', count: 2 }), 0x12345678)).toEqual([0x1234, 0x5678]);
    expect(encodePoint(point({ type: 'u32', count: 2, wordOrder: 'low-first' }), 0x12345678)).toEqual([
      0x5678, 0x1234,
    ]);
    expect(encodePoint(point({ type: 'u32', count: 2, byteOrder: 'little' }), 0x12345678)).toEqual([
      0x3412, 0x7856,
    ]);
    expect(encodePoint(point({ type: 'i16' }), -2)).toEqual([0xfffe]);
  });

  it('applies scale and offset backwards, and refuses a value between steps', () => {
    const p = point({ type: 'i16', scale: 0.1, offset: -40 });
    expect(encodePoint(p, 25.3)).toEqual([653]);
    expect(decodePoint(p, [653])).toBe(25.3);
    expect(code(() => encodePoint(p, 25.35))).toBe('ACQ_WRITE_RANGE');
  });

  it("refuses values outside the type or the point's range, and types it does not write", () => {
    expect(code(() => encodePoint(point({}), 65_536))).toBe('ACQ_WRITE_RANGE');
    expect(code(() => encodePoint(point({}), -1))).toBe('ACQ_WRITE_RANGE');
    expect(code(() => encodePoint(point({ range: [0, 100] }), 101))).toBe('ACQ_WRITE_RANGE');
    expect(code(() => encodePoint(point({ type: 'f32', count: 2 }), 1e39))).toBe('ACQ_WRITE_RANGE');
    expect(code(() => encodePoint(point({}), Number.NaN))).toBe('ACQ_WRITE_RANGE');
    expect(code(() => encodePoint(point({ type: 'string', count: 4 }), 1))).toBe('ACQ_WRITE_UNSUPPORTED');
    expect(code(() => encodePoint(point({ type: 'bits' }), 1))).toBe('ACQ_WRITE_UNSUPPORTED');
    expect(code(() => encodePoint(point({ function: 4 }), 1))).toBe('ACQ_WRITE_UNSUPPORTED');
    expect(encodePoint(point({ function: 1, type: 'bits' }), 1)).toEqual([1]);
    expect(code(() => encodePoint(point({ function: 1, type: 'bits' }), 2))).toBe('ACQ_WRITE_RANGE');
  });
});
