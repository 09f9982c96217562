/**
 * Flags from what the device says about itself: status registers and bits mapped by the
 * profile onto the points they govern, and the measuring range (above max -> T). Precedence
 * between flags is core's `worstFlag`: a communication failure hides everything, a fault hides
 * calibration, and so on.
 */
import { worstFlag, type Flag } from '../core/flags.js';
import type { Quality } from '../core/reading.js';
import type { ResolvedPoint, StatusMappingSpec } from '../profiles/schema.js';
import type { Value } from './decode.js';

/** One point's result in a poll cycle before it becomes a ReadingDraft. */
export interface PointOutcome {
  key: string;
  value: Value | null;
  flag: Flag;
  quality: Quality[];
  raw?: number[];
  /** Wall-clock time of the reply (or failure) this value came from, UTC ms. */
  ts: number;
}

export type StatusCondition = StatusMappingSpec['when'];

/** Whether a status value meets a mapping's condition. Bit tests use the integer part. */
export function conditionHolds(when: StatusCondition, value: number): boolean {
  if (when === 'nonzero') return value !== 0;
  if (when === 'zero') return value === 0;
  if ('equals' in when) return value === when.equals;
  if ('notEquals' in when) return value !== when.notEquals;
  const bits = BigInt.asUintN(64, BigInt(Math.trunc(value)));
  if ('bitSet' in when) return ((bits >> BigInt(when.bitSet)) & 1n) === 1n;
  return (bits & BigInt(when.anyBits)) !== 0n;
}

function addQuality(o: PointOutcome, q: Quality): void {
  if (!o.quality.includes(q)) o.quality.push(q);
}

function raise(o: PointOutcome, flag: Flag, q: Quality): void {
  o.flag = worstFlag([o.flag, flag]);
  addQuality(o, q);
}

/** Each device's measurement points, found once: a poll with status mappings only reads them. */
const MEASUREMENTS = new WeakMap<readonly ResolvedPoint[], readonly string[]>();

function measurementKeys(points: readonly ResolvedPoint[]): readonly string[] {
  let keys = MEASUREMENTS.get(points);
  if (!keys)
    MEASUREMENTS.set(points, (keys = points.filter((p) => p.role === 'measurement').map((p) => p.key)));
  return keys;
}

/**
 * Applies range and status mappings to a cycle's outcomes in place. A mapping whose source
 * was not read (value null) changes nothing: the device did not say, and the failed source
 * carries its own B flag.
 */
export function applyFlags(
  points: readonly ResolvedPoint[],
  mappings: readonly StatusMappingSpec[],
  outcomes: Map<string, PointOutcome>,
): void {
  for (const p of points) {
    const o = outcomes.get(p.key);
    if (o && p.range && typeof o.value === 'number' && o.value > p.range[1]) raise(o, 'T', 'out_of_range');
  }
  if (mappings.length === 0) return;
  const measurements = measurementKeys(points);
  for (const m of mappings) {
    const source = outcomes.get(m.source)?.value;
    if (typeof source !== 'number' || !conditionHolds(m.when, source)) continue;
    for (const key of m.points ?? measurements) {
      const o = outcomes.get(key);
      if (o && o.value !== null) raise(o, m.flag, 'device_status');
    }
  }
}
