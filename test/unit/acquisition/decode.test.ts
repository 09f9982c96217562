import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isLantianError } from '../../../gateway/src/core/errors.js';
import {
  applyScale,
  decodePoint,
  shortestFloat32,
  type DecodablePoint,
} from '../../../gateway/src/acquisition/decode.js';

/** Float32 values compared by the shortest-decimal test; LANTIAN_FLOAT32_SAMPLE=10000000 for a long run. */
const FLOAT32_SAMPLE = Number(process.env.LANTIAN_FLOAT32_SAMPLE ?? 200_000);

type Order = [DecodablePoint['wordOrder'], DecodablePoint['byteOrder']];
const ORDERS: Record<string, Order> = {
  ABCD: ['high-first', 'big'],
  CDAB: ['low-first', 'big'],
  BADC: ['high-first', 'little'],
  DCBA: ['low-first', 'little'],
};

function point(p: Partial<DecodablePoint> & Pick<DecodablePoint, 'type' | 'count'>): DecodablePoint {
  return {
    key: 'x',
    function: 3,
    wordOrder: 'high-first',
    byteOrder: 'big',
    scale: 1,
    offset: 0,
    ...p,
  };
}

/**
 * Independent encoder for the tests: big-endian bytes of the value, then rearranged by naming
 * the letter order (ABCD...) explicitly rather than by the decoder's word/byte rules.
 */
function wordsIn(bigEndian: Buffer, order: keyof typeof ORDERS): number[] {
  const n = bigEndian.length / 2;
  const letters = [...bigEndian];
  // Register k of the frame carries which bytes of the big-endian value.
  const pairs: [number, number][] = [];
  for (let k = 0; k < n; k++) {
    const w = order === 'ABCD' || order === 'BADC' ? k : n - 1 - k;
    const hi = letters[w * 2]!;
    const lo = letters[w * 2 + 1]!;
    pairs.push(order === 'ABCD' || order === 'CDAB' ? [hi, lo] : [lo, hi]);
  }
  return pairs.map(([hi, lo]) => hi * 256 + lo);
}

function decodeCode(p: DecodablePoint, words: number[]): string | undefined {
  try {
    decodePoint(p, words);
    return undefined;
  } catch (e) {
    return isLantianError(e) ? e.code : 'not a LantianError';
  }
}

describe('decoding numbers in every word and byte order', () => {
  it('decodes a float32 the same in ABCD, CDAB, BADC and DCBA when the words are ordered so', () => {
    const be = Buffer.from('41a73333', 'hex'); // 20.9
    for (const [name, [wordOrder, byteOrder]] of Object.entries(ORDERS)) {
      const words = wordsIn(be, name);
      expect(decodePoint(point({ type: 'f32', count: 2, wordOrder, byteOrder }), words), name).toBe(20.9);
    }
    // The classic confusion: reading CDAB as ABCD gives a different, wrong number.
    expect(decodePoint(point({ type: 'f32', count: 2 }), wordsIn(be, 'CDAB'))).not.toBe(20.9);
  });

  it('round-trips every numeric type through every order (property)', () => {
    const types = ['u16', 'i16', 'u32', 'i32', 'f32', 'f64', 'u64', 'i64'] as const;
    fc.assert(
      fc.property(
        fc.constantFrom(...types),
        fc.constantFrom(...Object.keys(ORDERS)),
        fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
        fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e30, max: 1e30 }),
        (type, order, int, dbl) => {
          const count = { u16: 1, i16: 1, u32: 2, i32: 2, f32: 2, f64: 4, u64: 4, i64: 4 }[type];
          const be = Buffer.alloc(count * 2);
          let expected: number;
          switch (type) {
            case 'u16':
              expected = int & 0xffff;
              be.writeUInt16BE(expected);
              break;
            case 'i16':
              expected = (int << 16) >> 16;
              be.writeInt16BE(expected);
              break;
            case 'u32':
              expected = int >>> 0;
              be.writeUInt32BE(expected);
              break;
            case 'i32':
              expected = int;
              be.writeInt32BE(expected);
              break;
            case 'f32':
              be.writeFloatBE(dbl);
              expected = Math.fround(dbl);
              break;
            case 'f64':
              be.writeDoubleBE(dbl);
              expected = dbl;
              break;
            case 'u64':
              be.writeBigUInt64BE(BigInt(int >>> 0) * 65536n);
              expected = (int >>> 0) * 65536;
              break;
            case 'i64':
              be.writeBigInt64BE(BigInt(int) * 65536n);
              expected = int * 65536;
              break;
          }
          const [wordOrder, byteOrder] = ORDERS[order]!;
          const v = decodePoint(point({ type, count, wordOrder, byteOrder }), wordsIn(be, order));
          if (type === 'f32') expect(Math.fround(v as number)).toBe(expected);
          else expect(v).toBe(expected);
        },
      ),
    );
  });

  it('reports a float32 as the shortest decimal that reads back as the same float', () => {
    expect(decodePoint(point({ type: 'f32', count: 2 }), [0x3f47, 0xae14])).toBe(0.78);
    expect(shortestFloat32(Math.fround(123.4))).toBe(123.4);
    fc.assert(
      fc.property(fc.float({ noNaN: true, noDefaultInfinity: true }), (f) => {
        expect(Math.fround(shortestFloat32(f))).toBe(f);
      }),
    );
  });

  it(
    'finds the same shortest decimal as toPrecision, digit count by digit count',
    () => {
      // The definition, with strings: what shortestFloat32 computes with arithmetic where it is exact.
      const byStrings = (x: number): number => {
        for (let p = 1; p <= 9; p++) {
          const candidate = Number(x.toPrecision(p));
          if (Math.fround(candidate) === x) return candidate;
        }
        return x;
      };
      const f = new Float32Array(1);
      const bits = new Uint32Array(f.buffer);
      const differ: number[] = [];
      const compare = (x: number) => {
        if (Number.isFinite(x) && x !== 0 && !Object.is(shortestFloat32(x), byStrings(x))) differ.push(x);
      };
      // Every float32 within 20 steps of each power of two and of each power of ten, both signs:
      // where the decimal exponent and the rounding interval change.
      const around = (value: number) => {
        f[0] = value;
        const at = bits[0]!;
        for (let d = -20; d <= 20; d++) {
          bits[0] = (at + d) >>> 0;
          compare(f[0]);
          compare(-f[0]);
        }
      };
      for (let k = -149; k <= 127; k++) around(2 ** k);
      for (let k = -45; k <= 38; k++) around(10 ** k);
      // Decimals as analysers send them (0 to 5 places, 1e-4 to 1e7), and random bit patterns.
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 0xffffffff }),
          fc.nat(11),
          fc.nat(5),
          (b, magnitude, places) => {
            bits[0] = b;
            compare(f[0]!);
            compare(Math.fround(Number(((b / 0xffffffff) * 10 ** (magnitude - 4)).toFixed(places))));
          },
        ),
        { numRuns: FLOAT32_SAMPLE },
      );
      expect(differ.slice(0, 5)).toEqual([]);
    },
    Math.max(20_000, FLOAT32_SAMPLE / 50),
  );

  it('applies scale and offset without binary noise on integer registers', () => {
    expect(decodePoint(point({ type: 'u16', count: 1, scale: 0.1 }), [3])).toBe(0.3);
    expect(decodePoint(point({ type: 'i16', count: 1, scale: 0.1 }), [0xff9c])).toBe(-10);
    expect(decodePoint(point({ type: 'u16', count: 1, scale: 0.01, offset: -40 }), [4123])).toBe(1.23);
    expect(decodePoint(point({ type: 'u16', count: 1, scale: 100 }), [1013])).toBe(101300);
    expect(applyScale(7, 0.5, 0, true)).toBe(3.5);
  });

  it('reads an unsigned 32-bit value split high word first (illuminance at 510/511)', () => {
    expect(decodePoint(point({ type: 'u32', count: 2 }), [0x0003, 0x0d40])).toBe(200000);
  });
});

describe('decoding bits, strings and BCD', () => {
  it('splits one register into a high-byte and a low-byte field', () => {
    const fault = point({ type: 'bits', count: 1, bits: { bit: 8, width: 8 } });
    const cal = point({ type: 'bits', count: 1, bits: { bit: 0, width: 8 } });
    expect(decodePoint(fault, [0x0201])).toBe(2);
    expect(decodePoint(cal, [0x0201])).toBe(1);
    expect(decodePoint(point({ type: 'bits', count: 1, bits: { bit: 15, width: 1 } }), [0x8000])).toBe(1);
  });

  it('reads coils and discrete inputs least significant bit first', () => {
    expect(decodePoint(point({ type: 'bits', function: 2, count: 1 }), [1])).toBe(1);
    expect(decodePoint(point({ type: 'bits', function: 1, count: 3 }), [1, 0, 1])).toBe(5);
  });

  it('reads a NUL-terminated string two characters per register, in either byte order', () => {
    const words = [0x7070, 0x6200, 0x0000]; // "ppb"
    expect(decodePoint(point({ type: 'string', count: 3 }), words)).toBe('ppb');
    expect(decodePoint(point({ type: 'string', count: 2, byteOrder: 'little' }), [0x4241, 0x0043])).toBe(
      'ABC',
    );
    expect(decodePoint(point({ type: 'string', count: 2 }), [0x4f4b, 0x2020])).toBe('OK');
  });

  it('reads BCD numbers and YY MM DD hh mm ss timestamps', () => {
    expect(decodePoint(point({ type: 'bcd', count: 2, bcdFormat: 'number' }), [0x0012, 0x3456])).toBe(123456);
    expect(decodePoint(point({ type: 'bcd', count: 1, scale: 0.1 }), [0x0235])).toBe(23.5);
    const ts = point({ type: 'bcd', count: 3, bcdFormat: 'datetime' });
    expect(decodePoint(ts, [0x2603, 0x1514, 0x3059])).toBe('2026-03-15T14:30:59');
  });

  it('refuses bad BCD digits, impossible dates, NaN floats and short data with ACQ_DECODE', () => {
    expect(decodeCode(point({ type: 'bcd', count: 1 }), [0x1a00])).toBe('ACQ_DECODE');
    const ts = point({ type: 'bcd', count: 3, bcdFormat: 'datetime' });
    expect(decodeCode(ts, [0x2602, 0x3000, 0x0000])).toBe('ACQ_DECODE'); // 30 February
    expect(decodeCode(ts, [0x2613, 0x0100, 0x0000])).toBe('ACQ_DECODE'); // month 13
    expect(decodeCode(point({ type: 'f32', count: 2 }), [0x7fc0, 0x0000])).toBe('ACQ_DECODE');
    expect(decodeCode(point({ type: 'f32', count: 2 }), [0x7f80, 0x0000])).toBe('ACQ_DECODE');
    expect(decodeCode(point({ type: 'u32', count: 2 }), [1])).toBe('ACQ_DECODE');
  });

  it('keeps the decimals of float points through scale and offset, and reads 64-bit extremes', () => {
    expect(decodePoint(point({ type: 'f32', count: 2, scale: 0.1 }), [0x3f9d, 0x70a4])).toBe(0.123);
    expect(decodePoint(point({ type: 'f64', count: 4, scale: 0.1 }), [0x3ff3, 0xae14, 0x7ae1, 0x47ae])).toBe(
      0.123,
    );
    // An integer register is rounded to the decimals of its scale: 1234 × 0.1 is 123.4.
    expect(decodePoint(point({ type: 'u16', count: 1, scale: 0.1 }), [1234])).toBe(123.4);
    const ones = [0xffff, 0xffff, 0xffff, 0xffff];
    expect(decodePoint(point({ type: 'u64', count: 4 }), ones)).toBe(2 ** 64);
    expect(decodePoint(point({ type: 'i64', count: 4 }), ones)).toBe(-1);
    // bits without a field: the lowest bit of the register.
    expect(decodePoint(point({ type: 'bits', count: 1 }), [0b110])).toBe(0);
    expect(decodePoint(point({ type: 'bits', count: 1 }), [0b111])).toBe(1);
  });

  it('names the float that cannot be a value', () => {
    expect(() => decodePoint(point({ type: 'f32', count: 2 }), [0x7fc0, 0])).toThrow('float32 is NaN');
    const f64 = point({ type: 'f64', count: 4 });
    expect(decodeCode(f64, [0x7ff8, 0, 0, 0])).toBe('ACQ_DECODE');
    expect(() => decodePoint(f64, [0xfff0, 0, 0, 0])).toThrow('float64 is -Infinity');
  });

  it('never reads a value left by the point decoded before it', () => {
    // Numeric values are decoded in a buffer reused from one point to the next.
    const f64 = point({ type: 'f64', count: 4 });
    expect(decodePoint(f64, [0x4059, 0x0000, 0x0000, 0x0000])).toBe(100);
    expect(decodePoint(point({ type: 'u16', count: 1 }), [7])).toBe(7);
    expect(decodePoint(point({ type: 'u32', count: 2, wordOrder: 'low-first' }), [2, 1])).toBe(65538);
    // A point whose count does not fit its type (no profile resolves one; a hand-built point can)
    // reads only its own words and refuses the rest instead of taking the earlier point's bytes.
    expect(decodePoint(f64, [0x7fef, 0xffff, 0xffff, 0xffff])).toBe(Number.MAX_VALUE);
    expect(() => decodePoint(point({ type: 'u32', count: 1 }), [1])).toThrow(RangeError);
    expect(() => decodePoint(point({ type: 'f64', count: 2 }), [0x4059, 0])).toThrow(RangeError);
  });
});
