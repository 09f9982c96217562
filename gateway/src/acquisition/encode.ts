/**
 * Values -> register contents, the inverse of decode.ts for the types a gateway writes: 16-, 32-
 * and 64-bit integers and floats in holding registers (the profile's word and byte order, scale
 * and offset) and single coils. A value the type cannot hold exactly, or outside the point's
 * range, is refused (ACQ_WRITE_RANGE); a type it does not write (strings, BCD, a bit field
 * that shares its register) is refused as ACQ_WRITE_UNSUPPORTED. Never a rounded or clipped value.
 */
import { LantianError } from '../core/errors.js';
import type { ResolvedPoint } from '../profiles/schema.js';

export type EncodablePoint = Pick<
  ResolvedPoint,
  'key' | 'function' | 'type' | 'count' | 'wordOrder' | 'byteOrder' | 'scale' | 'offset' | 'range'
>;

const INTEGER_LIMITS: Partial<Record<ResolvedPoint['type'], [number, number]>> = {
  u16: [0, 0xffff],
  i16: [-0x8000, 0x7fff],
  u32: [0, 0xffffffff],
  i32: [-0x80000000, 0x7fffffff],
  u64: [0, Number.MAX_SAFE_INTEGER],
  i64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};

function outOfRange(point: EncodablePoint, value: number, why: string): LantianError {
  return new LantianError('ACQ_WRITE_RANGE', `point ${point.key} (${point.type}): ${value} ${why}`, {
    context: { point: point.key, type: point.type, value },
  });
}

/** The value's bytes, most significant first, before word and byte order. */
function bigEndian(point: EncodablePoint, value: number, raw: number): Buffer {
  const buf = Buffer.alloc(2 * point.count);
  if (point.type === 'f32') {
    if (!Number.isFinite(Math.fround(raw))) throw outOfRange(point, value, 'does not fit a float32');
    buf.writeFloatBE(raw, 0);
    return buf;
  }
  if (point.type === 'f64') {
    buf.writeDoubleBE(raw, 0);
    return buf;
  }
  const limits = INTEGER_LIMITS[point.type];
  if (!limits) {
    throw new LantianError('ACQ_WRITE_UNSUPPORTED', `point ${point.key}: type ${point.type} is not written`, {
      context: { point: point.key, type: point.type },
    });
  }
  const n = Math.round(raw);
  // (value - offset) / scale must land on an integer: 0.1 steps for a scale of 0.1, no more.
  if (Math.abs(n - raw) > 1e-9 * Math.max(1, Math.abs(raw)))
    throw outOfRange(point, value, `is not a whole number of steps of ${point.scale}`);
  if (n < limits[0] || n > limits[1])
    throw outOfRange(point, value, `is outside what ${point.type} holds after scale and offset`);
  // Two's complement in the point's width: the low 2 × count bytes of a 64-bit word.
  const wide = Buffer.alloc(8);
  wide.writeBigUInt64BE(BigInt.asUintN(64, BigInt(n)));
  return wide.subarray(8 - buf.length);
}

/**
 * The registers (FC03 points) or the coil (FC01 points, one bit) that hold `value` on the
 * device, in the order they are written from the point's address.
 */
export function encodePoint(point: EncodablePoint, value: number): number[] {
  if (!Number.isFinite(value)) throw outOfRange(point, value, 'is not a finite number');
  if (point.range && (value < point.range[0] || value > point.range[1]))
    throw outOfRange(point, value, `is outside the point's range ${point.range[0]}..${point.range[1]}`);
  const raw = (value - point.offset) / point.scale;
  if (point.function === 1) {
    if (point.count !== 1)
      throw new LantianError('ACQ_WRITE_UNSUPPORTED', `point ${point.key}: only a single coil is written`, {
        context: { point: point.key },
      });
    if (raw !== 0 && raw !== 1)
      throw outOfRange(point, value, 'is not a coil state (0 or 1 after scale and offset)');
    return [raw];
  }
  if (point.function !== 3 || point.type === 'bits' || point.type === 'string' || point.type === 'bcd') {
    throw new LantianError(
      'ACQ_WRITE_UNSUPPORTED',
      `point ${point.key}: ${point.function === 3 ? `type ${point.type}` : `function ${point.function}`} is not written`,
      { context: { point: point.key, type: point.type, function: point.function } },
    );
  }
  const bytes = bigEndian(point, value, raw);
  const words = Array.from({ length: point.count }, (_, i) =>
    point.byteOrder === 'little' ? bytes.readUInt16LE(2 * i) : bytes.readUInt16BE(2 * i),
  );
  return point.wordOrder === 'low-first' ? words.reverse() : words;
}
