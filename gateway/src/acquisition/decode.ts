/**
 * Register contents -> values, exactly as the profile declares them: type, word order, byte
 * order, scale and offset, bit fields, strings and BCD. Every failure is an ACQ_DECODE error
 * naming the point and the raw words, never a guessed value.
 */
import { LantianError } from '../core/errors.js';
import { TYPE_REGISTERS, type PointType } from '../profiles/point-types.js';
import type { ResolvedPoint } from '../profiles/schema.js';

export type DecodablePoint = Pick<
  ResolvedPoint,
  | 'key'
  | 'function'
  | 'type'
  | 'count'
  | 'wordOrder'
  | 'byteOrder'
  | 'scale'
  | 'offset'
  | 'bits'
  | 'bcdFormat'
>;

export type Value = number | string;

/**
 * The bytes of a multi-register value, most significant first. `low-first` reverses the
 * registers (CDAB); `little` swaps the two bytes inside each register (BADC). Both: DCBA.
 */
export function valueBytes(
  words: readonly number[],
  wordOrder: ResolvedPoint['wordOrder'],
  byteOrder: ResolvedPoint['byteOrder'],
): Buffer {
  return writeWords(Buffer.alloc(words.length * 2), words, wordOrder, byteOrder);
}

/** Writes `words` into the start of `into` in the value's byte order (see valueBytes); returns it. */
function writeWords(
  into: Buffer,
  words: readonly number[],
  wordOrder: ResolvedPoint['wordOrder'],
  byteOrder: ResolvedPoint['byteOrder'],
): Buffer {
  const n = words.length;
  for (let i = 0; i < n; i++) {
    const w = wordOrder === 'low-first' ? words[n - 1 - i]! : words[i]!;
    if (byteOrder === 'little') into.writeUInt16LE(w, i * 2);
    else into.writeUInt16BE(w, i * 2);
  }
  return into;
}

function fail(point: DecodablePoint, data: readonly number[], why: string): LantianError {
  return new LantianError('ACQ_DECODE', `point ${point.key} (${point.type}): ${why}`, {
    context: { point: point.key, type: point.type, raw: [...data] },
  });
}

/** Powers of ten a double holds exactly (10^0 to 10^22). */
const EXACT_POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);

/**
 * `Number(x.toPrecision(p))` without the string, when arithmetic gives the same number for sure:
 * |x| scaled by an exact power of ten and rounded half up, as toPrecision rounds (a product or
 * quotient of exact integers is correctly rounded, as parsing the decimal is). Undefined beyond
 * 10^22 (powers of ten a double does not hold exactly) and when the scaled value is within 1e-6 of
 * a tie, where the scaling's own rounding (at most 1.2e-7 below 10^9) could pick the other
 * neighbour.
 */
function roundedTo(ax: number, e: number, p: number): number | undefined {
  const k = p - 1 - e;
  if (k > 22 || k < -22) return undefined;
  const scaled = k >= 0 ? ax * EXACT_POW10[k]! : ax / EXACT_POW10[-k]!;
  const fraction = scaled - Math.floor(scaled);
  if (Math.abs(fraction - 0.5) < 1e-6) return undefined;
  const n = Math.round(scaled);
  return k >= 0 ? n / EXACT_POW10[k]! : n * EXACT_POW10[-k]!;
}

/**
 * The shortest decimal that reads back as the same float32: 0.78, not 0.7799999713897705. The
 * first of 1 to 9 significant digits, each `Number(x.toPrecision(p))`, whose float32 is `x`;
 * computed without strings where arithmetic is exact (decode.test.ts compares both), as this runs
 * once per float reading. `e` is the decimal exponent of |x|: `log10` is within an ulp, so it can
 * be one short only at an exact power of ten, where every digit count gives that power itself.
 */
export function shortestFloat32(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const ax = Math.abs(x);
  const e = Math.floor(Math.log10(ax));
  for (let p = 1; p <= 9; p++) {
    const fast = roundedTo(ax, e, p);
    const candidate = fast === undefined ? Number(x.toPrecision(p)) : x < 0 ? -fast : fast;
    if (Math.fround(candidate) === x) return candidate;
  }
  return x;
}

function decimalsOf(x: number): number | undefined {
  const s = String(x);
  if (s.includes('e')) return undefined;
  const dot = s.indexOf('.');
  return dot < 0 ? 0 : s.length - dot - 1;
}

/**
 * `raw * scale + offset`. For integer raw values the exact result has no more decimals than
 * scale or offset, so it is rounded to those: 3 × 0.1 gives 0.3, not 0.30000000000000004.
 */
export function applyScale(raw: number, scale: number, offset: number, integerRaw: boolean): number {
  if (scale === 1 && offset === 0) return raw;
  const v = raw * scale + offset;
  if (!integerRaw || Math.abs(v) >= 1e15) return v;
  const ds = decimalsOf(scale);
  const dof = decimalsOf(offset);
  if (ds === undefined || dof === undefined) return v;
  return Number(v.toFixed(Math.min(20, Math.max(ds, dof))));
}

function bcdDigits(point: DecodablePoint, data: readonly number[], bytes: Buffer): number[] {
  const digits: number[] = [];
  for (const b of bytes) {
    const hi = b >> 4;
    const lo = b & 0x0f;
    if (hi > 9 || lo > 9) throw fail(point, data, `byte 0x${b.toString(16).padStart(2, '0')} is not BCD`);
    digits.push(hi, lo);
  }
  return digits;
}

const two = (n: number): string => String(n).padStart(2, '0');

/** Six BCD bytes YY MM DD hh mm ss -> `20YY-MM-DDThh:mm:ss` (device local time, no zone). */
function bcdDateTime(point: DecodablePoint, data: readonly number[], bytes: Buffer): string {
  if (bytes.length < 6) throw fail(point, data, 'a BCD date-time needs 6 bytes (3 registers)');
  const d = bcdDigits(point, data, bytes.subarray(0, 6));
  const f = (i: number): number => d[i * 2]! * 10 + d[i * 2 + 1]!;
  const [yy, mo, dd, hh, mi, ss] = [f(0), f(1), f(2), f(3), f(4), f(5)];
  const days = new Date(Date.UTC(2000 + yy, mo, 0)).getUTCDate();
  if (mo < 1 || mo > 12 || dd < 1 || dd > days || hh > 23 || mi > 59 || ss > 59) {
    throw fail(
      point,
      data,
      `${two(yy)}-${two(mo)}-${two(dd)} ${two(hh)}:${two(mi)}:${two(ss)} is not a date-time`,
    );
  }
  return `${2000 + yy}-${two(mo)}-${two(dd)}T${two(hh)}:${two(mi)}:${two(ss)}`;
}

function decodeString(point: DecodablePoint, data: readonly number[]): string {
  const bytes = valueBytes(data, 'high-first', point.byteOrder);
  const nul = bytes.indexOf(0);
  return bytes.toString('latin1', 0, nul < 0 ? bytes.length : nul).trimEnd();
}

/**
 * The words of one numeric value of up to four registers (64 bits), laid out big-endian, in a
 * buffer reused by every call: decoding runs to completion, so no value outlives its read.
 */
const scratch = Buffer.alloc(8);
/** Registers of the fixed-size types; BCD and strings have none here, so never use the scratch. */
const REGISTERS: Partial<Record<PointType, number>> = TYPE_REGISTERS;

/** Float types keep their decimals through scale and offset; every other type is an integer. */
const isFloat = (type: DecodablePoint['type']): boolean => type === 'f32' || type === 'f64';

/** A numeric point's value before scale and offset (one per reading: no allocation but BCD's). */
function rawNumber(point: DecodablePoint, data: readonly number[]): number {
  // The scratch holds exactly the type's registers; anything else (BCD, a point whose count does
  // not match its type) gets a buffer of its own, which a read past its end refuses.
  const bytes =
    data.length === REGISTERS[point.type]
      ? writeWords(scratch, data, point.wordOrder, point.byteOrder)
      : valueBytes(data, point.wordOrder, point.byteOrder);
  switch (point.type) {
    case 'u16':
      return bytes.readUInt16BE(0);
    case 'i16':
      return bytes.readInt16BE(0);
    case 'u32':
      return bytes.readUInt32BE(0);
    case 'i32':
      return bytes.readInt32BE(0);
    case 'u64':
      return Number(bytes.readBigUInt64BE(0));
    case 'i64':
      return Number(bytes.readBigInt64BE(0));
    case 'f32': {
      const f = bytes.readFloatBE(0);
      if (!Number.isFinite(f)) throw fail(point, data, `float32 is ${f}`);
      return shortestFloat32(f);
    }
    case 'f64': {
      const f = bytes.readDoubleBE(0);
      if (!Number.isFinite(f)) throw fail(point, data, `float64 is ${f}`);
      return f;
    }
    case 'bits': {
      const { bit, width } = point.bits ?? { bit: 0, width: 1 };
      const word = bytes.readUInt16BE(0);
      return (word >>> bit) & ((1 << width) - 1);
    }
    case 'bcd':
      return bcdDigits(point, data, bytes).reduce((n, d) => n * 10 + d, 0);
    case 'string':
      throw fail(point, data, 'a string has no numeric value');
  }
}

/**
 * Decodes one point from its own registers (FC03/04: `count` words) or bits (FC01/02: `count`
 * values 0/1, first bit least significant).
 */
export function decodePoint(point: DecodablePoint, data: readonly number[]): Value {
  if (data.length !== point.count) {
    throw fail(
      point,
      data,
      `expected ${point.count} ${point.function <= 2 ? 'bits' : 'registers'}, got ${data.length}`,
    );
  }
  if (point.function === 1 || point.function === 2) {
    const raw = data.reduce((n, b, i) => n + (b ? 2 ** i : 0), 0);
    return applyScale(raw, point.scale, point.offset, true);
  }
  if (point.type === 'string') return decodeString(point, data);
  if (point.type === 'bcd' && point.bcdFormat === 'datetime') {
    return bcdDateTime(point, data, valueBytes(data, point.wordOrder, point.byteOrder));
  }
  return applyScale(rawNumber(point, data), point.scale, point.offset, !isFloat(point.type));
}
