/**
 * The witness that checks profile examples is itself held to published vectors, so a mistake in
 * it cannot hide the same mistake in a profile.
 */
import { describe, expect, it } from 'vitest';
import { resolvedPoint } from '../../helpers/resolved-point.js';
import { closeEnough, decodeWitness } from './example-witness.js';

const point = resolvedPoint;

describe('example witness', () => {
  it('reads the SICK VISIC100SF worked frame (ABCD) as 0.78', () => {
    expect(decodeWitness(point({}), [0x3f48, 0x2b67])).toBeCloseTo(0.78, 2);
  });

  it('reads the same float low word first (CDAB)', () => {
    expect(decodeWitness(point({ wordOrder: 'low-first' }), [0x2b67, 0x3f48])).toBeCloseTo(0.78, 2);
  });

  it('reads the Saimosen O3 vector (BADC) [0xBF3E, 0xFB7C] as 0.374', () => {
    expect(closeEnough(decodeWitness(point({ byteOrder: 'little' }), [0xbf3e, 0xfb7c]), 0.374)).toBe(true);
  });

  it('reads DCBA, signed 16-bit with scale, bit fields, coils and BCD', () => {
    const dcba = point({ wordOrder: 'low-first', byteOrder: 'little' });
    expect(decodeWitness(dcba, [0x672b, 0x483f])).toBeCloseTo(0.78, 2);
    expect(decodeWitness(point({ type: 'i16', count: 1, scale: 0.1 }), [0xffcc])).toBeCloseTo(-5.2, 9);
    expect(decodeWitness(point({ type: 'bits', count: 1, bits: { bit: 8, width: 8 } }), [0x0201])).toBe(2);
    expect(decodeWitness(point({ type: 'bits', function: 1, count: 3 }), [1, 0, 1])).toBe(5);
    expect(
      decodeWitness(point({ type: 'bcd', count: 3, bcdFormat: 'datetime' }), [0x2405, 0x1208, 0x3000]),
    ).toBe('2024-05-12T08:30:00');
    expect(decodeWitness(point({ type: 'bcd', count: 2 }), [0x0012, 0x3456])).toBe(123456);
    expect(decodeWitness(point({ type: 'string', count: 3 }), [0x4142, 0x4300, 0x5858])).toBe('ABC');
  });
});
