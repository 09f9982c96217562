/**
 * An independent reading of profile examples, written from the schema's descriptions only, so the
 * example words in every profile are checked before (and apart from) the gateway's decoder.
 */
import { worstFlag, type Flag } from '../../../gateway/src/core/flags.js';
import type { ExampleSpec, Profile, ResolvedPoint } from '../../../gateway/src/profiles/index.js';

/** The example's words for `count` registers (or bits) from `pdu`, if one block holds them all. */
export function wordsFor(example: ExampleSpec, p: ResolvedPoint): number[] | undefined {
  for (const block of example.registers) {
    if (block.function !== p.function) continue;
    const start = p.pdu - block.address;
    if (start >= 0 && start + p.count <= block.words.length) return block.words.slice(start, start + p.count);
  }
  return undefined;
}

function bytesOf(p: ResolvedPoint, words: number[]): Uint8Array {
  const ordered = p.wordOrder === 'low-first' ? [...words].reverse() : words;
  const out = new Uint8Array(ordered.length * 2);
  ordered.forEach((w, i) => {
    const [hi, lo] = [w >> 8, w & 0xff];
    out[2 * i] = p.byteOrder === 'big' ? hi : lo;
    out[2 * i + 1] = p.byteOrder === 'big' ? lo : hi;
  });
  return out;
}

const bcdByte = (b: number): number => (b >> 4) * 10 + (b & 0x0f);
const two = (n: number): string => String(n).padStart(2, '0');

const FIXED = {
  u16: (v: DataView) => v.getUint16(0),
  i16: (v: DataView) => v.getInt16(0),
  u32: (v: DataView) => v.getUint32(0),
  i32: (v: DataView) => v.getInt32(0),
  u64: (v: DataView) => Number(v.getBigUint64(0)),
  i64: (v: DataView) => Number(v.getBigInt64(0)),
  f32: (v: DataView) => v.getFloat32(0),
  f64: (v: DataView) => v.getFloat64(0),
};

export function decodeWitness(p: ResolvedPoint, words: number[]): number | string {
  if (p.function === 1 || p.function === 2) return words.reduce((acc, bit, i) => acc + bit * 2 ** i, 0);
  const bytes = bytesOf(p, words);
  const view = new DataView(bytes.buffer);
  const fixed = FIXED[p.type as keyof typeof FIXED] as ((v: DataView) => number) | undefined;
  let raw: number;
  if (fixed) raw = fixed(view);
  else if (p.type === 'bits') {
    raw = (view.getUint16(0) >> (p.bits?.bit ?? 0)) & (2 ** (p.bits?.width ?? 1) - 1);
  } else if (p.type === 'string') {
    const end = bytes.indexOf(0);
    return String.fromCharCode(...bytes.subarray(0, end === -1 ? bytes.length : end));
  } else if (p.bcdFormat === 'datetime') {
    const [yy, mo, dd, hh, mi, ss] = [...bytes].map(bcdByte).map(two);
    return `20${yy}-${mo}-${dd}T${hh}:${mi}:${ss}`;
  } else raw = [...bytes].reduce((acc, b) => acc * 100 + bcdByte(b), 0);
  return raw * p.scale + p.offset;
}

export function closeEnough(actual: number | string, expected: number | string): boolean {
  if (typeof actual === 'string' || typeof expected === 'string') return actual === expected;
  return Math.abs(actual - expected) <= 1e-6 * Math.max(1, Math.abs(expected));
}

function holds(when: Profile['status'][number]['when'], value: number): boolean {
  const v = Math.trunc(value);
  if (when === 'nonzero') return v !== 0;
  if (when === 'zero') return v === 0;
  if ('equals' in when) return v === when.equals;
  if ('notEquals' in when) return v !== when.notEquals;
  if ('bitSet' in when) return ((BigInt(v) >> BigInt(when.bitSet)) & 1n) === 1n;
  return (BigInt(v) & BigInt(when.anyBits)) !== 0n;
}

/** Flag of every measurement point for the example's registers, by the status rules. */
export function flagsWitness(profile: Profile, example: ExampleSpec): Record<string, Flag> {
  const measurements = profile.points.filter((p) => p.role === 'measurement').map((p) => p.key);
  const raised = new Map<string, Flag[]>(measurements.map((k) => [k, []]));
  for (const rule of profile.status) {
    const source = profile.points.find((p) => p.key === rule.source);
    const words = source && wordsFor(example, source);
    if (!source || !words) continue;
    const value = decodeWitness(source, words);
    if (typeof value !== 'number' || !holds(rule.when, value)) continue;
    for (const key of rule.points ?? measurements) raised.get(key)?.push(rule.flag);
  }
  return Object.fromEntries([...raised].map(([k, flags]) => [k, worstFlag(flags)]));
}
