/**
 * Value -> register words, written from the profile format (not from the gateway's decoder):
 * raw = (value - offset) / scale, rounded for integer types and clamped to the type's range as a
 * real instrument saturates; then laid out in the point's word order (high-first = ABCD,
 * low-first = CDAB) and byte order (little swaps the two bytes of each word, as in BADC).
 */
import type { ResolvedPoint } from '../../../gateway/src/profiles/index.js';
import { LantianError } from '../../../gateway/src/core/index.js';

export type PointValue = number | string;

const INT_RANGES: Record<string, [bigint, bigint]> = {
  u16: [0n, 0xffffn],
  i16: [-0x8000n, 0x7fffn],
  u32: [0n, 0xffffffffn],
  i32: [-0x80000000n, 0x7fffffffn],
  u64: [0n, 0xffffffffffffffffn],
  i64: [-0x8000000000000000n, 0x7fffffffffffffffn],
};

function asNumber(point: ResolvedPoint, value: PointValue): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(n)) {
    throw new LantianError('SIM_CONTROL_INVALID', `point ${point.key} needs a number, got ${String(value)}`, {
      context: { point: point.key, value },
    });
  }
  return n;
}

/** Raw number before layout: (value - offset) / scale. */
function rawOf(point: ResolvedPoint, value: PointValue): number {
  return (asNumber(point, value) - point.offset) / point.scale;
}

function clampInt(raw: number, type: string): bigint {
  const [lo, hi] = INT_RANGES[type]!;
  const r = BigInt(Math.round(Math.min(Math.max(raw, Number(lo)), Number(hi))));
  return r < lo ? lo : r > hi ? hi : r;
}

/** Big-endian bytes -> words, then the point's word and byte order. */
function layout(bytes: Buffer, point: Pick<ResolvedPoint, 'wordOrder' | 'byteOrder'>): number[] {
  let words: number[] = [];
  for (let i = 0; i < bytes.length; i += 2) words.push(bytes.readUInt16BE(i));
  if (point.wordOrder === 'low-first') words = words.reverse();
  if (point.byteOrder === 'little') words = words.map((w) => ((w & 0xff) << 8) | (w >> 8));
  return words;
}

function bcdByte(n: number): number {
  return ((Math.floor(n / 10) % 10) << 4) | (n % 10);
}

function encodeBcd(point: ResolvedPoint, value: PointValue): Buffer {
  const bytes = Buffer.alloc(2 * point.count);
  if (point.bcdFormat === 'datetime') {
    const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})/.exec(String(value));
    if (!m) {
      throw new LantianError('SIM_CONTROL_INVALID', `point ${point.key} needs a YYYY-MM-DDThh:mm:ss time`, {
        context: { point: point.key, value },
      });
    }
    const parts = [Number(m[1]) % 100, ...m.slice(2, 7).map(Number)];
    parts.slice(0, bytes.length).forEach((p, i) => (bytes[i] = bcdByte(p)));
    return bytes;
  }
  const digits = String(Math.max(0, Math.round(rawOf(point, value))))
    .padStart(bytes.length * 2, '0')
    .slice(-bytes.length * 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (Number(digits[2 * i]) << 4) | Number(digits[2 * i + 1]);
  return bytes;
}

/** Register words for a point that fills whole registers (every type except `bits`). */
export function encodeWords(point: ResolvedPoint, value: PointValue): number[] {
  const bytes = Buffer.alloc(2 * point.count);
  switch (point.type) {
    case 'u16':
    case 'i16':
      bytes.writeUInt16BE(Number(BigInt.asUintN(16, clampInt(rawOf(point, value), point.type))));
      break;
    case 'u32':
    case 'i32':
      bytes.writeUInt32BE(Number(BigInt.asUintN(32, clampInt(rawOf(point, value), point.type))));
      break;
    case 'u64':
    case 'i64':
      bytes.writeBigUInt64BE(BigInt.asUintN(64, clampInt(rawOf(point, value), point.type)));
      break;
    case 'f32':
      bytes.writeFloatBE(rawOf(point, value));
      break;
    case 'f64':
      bytes.writeDoubleBE(rawOf(point, value));
      break;
    case 'string':
      Buffer.from(String(value), 'latin1').copy(bytes, 0, 0, bytes.length);
      return layout(bytes, { wordOrder: 'high-first', byteOrder: point.byteOrder });
    case 'bcd':
      return layout(encodeBcd(point, value), point);
    case 'bits':
      throw new LantianError(
        'SIM_CONTROL_INVALID',
        `point ${point.key} is a bit field, not whole registers`,
        {
          context: { point: point.key },
        },
      );
  }
  return layout(bytes, point);
}

/** The unsigned field value of a `bits` point: round((value - offset) / scale), masked to its width. */
export function encodeField(point: ResolvedPoint, value: PointValue): number {
  const width = point.bits?.width ?? 1;
  const raw = Math.round(rawOf(point, value));
  const max = 2 ** width - 1;
  return Math.min(Math.max(raw, 0), max);
}
