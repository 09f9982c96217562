/**
 * Writing a device's status points so that the profile's status mappings report the state the
 * scenario wants (calibration C, maintenance M, fault D, stopped F). The mappings say how to read
 * a status value; here they are inverted: for each status source point, find a value under which
 * exactly the wanted mappings hold (e.g. `nonzero` -> 1, `bitSet: 5` -> bit 5 set, `notEquals: 1`
 * -> 0) and no mapping of another flag does.
 */
import type { Flag } from '../../../gateway/src/core/index.js';
import type { ResolvedPoint, StatusMappingSpec } from '../../../gateway/src/profiles/index.js';

export const DEVICE_STATES = ['calibration', 'maintenance', 'fault', 'stopped'] as const;
export type DeviceState = (typeof DEVICE_STATES)[number];

export const STATE_FLAG: Record<DeviceState, Flag> = {
  calibration: 'C',
  maintenance: 'M',
  fault: 'D',
  stopped: 'F',
};

type Condition = StatusMappingSpec['when'];

export function conditionHolds(when: Condition, v: number): boolean {
  if (when === 'nonzero') return v !== 0;
  if (when === 'zero') return v === 0;
  if ('equals' in when) return v === when.equals;
  if ('notEquals' in when) return v !== when.notEquals;
  const n = Math.trunc(v);
  if ('bitSet' in when) return n >= 0 && (BigInt(n) >> BigInt(when.bitSet)) % 2n === 1n;
  return (BigInt(Math.max(n, 0)) & BigInt(when.anyBits)) !== 0n;
}

/** Values worth trying for one source: small numbers, the constants the conditions name, their bits. */
function candidates(mappings: readonly StatusMappingSpec[]): number[] {
  const constants = new Set<number>([0, 1, 2, 3]);
  const bits = new Set<number>();
  for (const { when } of mappings) {
    if (typeof when === 'string') continue;
    if ('equals' in when) constants.add(when.equals);
    else if ('notEquals' in when)
      [when.notEquals, when.notEquals + 1, when.notEquals - 1].forEach((c) => constants.add(c));
    else if ('bitSet' in when) bits.add(when.bitSet);
    else {
      const lowest = Math.log2(when.anyBits & -when.anyBits);
      if (Number.isInteger(lowest)) bits.add(lowest);
    }
  }
  const bitList = [...bits].slice(0, 10);
  const combos: number[] = [];
  for (let mask = 0; mask < 1 << bitList.length; mask++) {
    let v = 0;
    bitList.forEach((b, i) => {
      if (mask & (1 << i)) v += 2 ** b;
    });
    combos.push(v);
  }
  // Fewer bits set first, so a state sets only the bits it needs.
  combos.sort((a, b) => popcount(a) - popcount(b) || a - b);
  return [...new Set([...constants, ...combos])].filter((v) => v >= -0x80000000);
}

function popcount(v: number): number {
  let n = 0;
  for (let x = BigInt(v); x > 0n; x >>= 1n) n += Number(x & 1n);
  return n;
}

/**
 * The value to write into `source` so that the flags in `active` (and no others) are reported.
 * Undefined when no value does it; `fits` filters values the point's type cannot hold.
 */
export function statusValue(
  mappings: readonly StatusMappingSpec[],
  active: ReadonlySet<Flag>,
  fits: (v: number) => boolean = () => true,
): number | undefined {
  const wanted = new Set(mappings.filter((m) => active.has(m.flag)).map((m) => m.flag));
  for (const v of candidates(mappings)) {
    if (!fits(v)) continue;
    const ok = mappings.every((m) => (wanted.has(m.flag) ? true : !conditionHolds(m.when, v)));
    const allWanted = [...wanted].every((f) =>
      mappings.some((m) => m.flag === f && conditionHolds(m.when, v)),
    );
    if (ok && allWanted) return v;
  }
  return undefined;
}

/** Status mappings grouped by the point they read. */
export function mappingsBySource(
  status: readonly StatusMappingSpec[],
  points: readonly ResolvedPoint[],
): Map<ResolvedPoint, StatusMappingSpec[]> {
  const out = new Map<ResolvedPoint, StatusMappingSpec[]>();
  for (const m of status) {
    const p = points.find((q) => q.key === m.source);
    if (!p) continue;
    out.set(p, [...(out.get(p) ?? []), m]);
  }
  return out;
}

/** Flags the profile can express at all: a state whose flag is missing cannot be simulated. */
export function expressibleFlags(status: readonly StatusMappingSpec[]): Set<Flag> {
  return new Set(status.map((m) => m.flag));
}
