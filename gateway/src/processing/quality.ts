/**
 * Data-quality checks: they add reasons to a reading's `quality` and never change its value or
 * flag (a suspicion is not a fault; the platform and the auditor decide). They run on each batch
 * before it is committed, so the reasons are on the record with the reading itself. Pure apart
 * from their own state; time comes from the readings, the clock's sync state from an injected
 * probe.
 *
 * Only readings that count (flag N or S, a finite number) feed the windows; the others pass
 * through unchecked and neither extend nor break a run. Reasons:
 *   - `stale`: the same register words (the same value where there are none), bit for bit, for
 *     `staleMinutes`: the source is not refreshing;
 *   - `flat_line`: values within `flatLineTolerancePct` % of the measuring range for
 *     `flatLineMinutes` (points without a range: exactly equal values);
 *   - `spike`: a jump of more than `spikePctOfRange` % of the range from the median of the
 *     last SPIKE_WINDOW valid values (points with a range only);
 *   - `out_of_range`: below the bottom of the measuring range (above it acquisition flags T);
 *   - `clipped_below_limit`: every valid value for `clipMinutes` within `clipBandPct` % below an
 *     emission limit and none above it, a known falsification pattern; the value compared is the
 *     one the limit judges (converted to the reference O2 with the outlet's latest O2 reading
 *     when the limit is corrected);
 *   - `clock_unsynchronised`: every reading taken while the probe says the clock is not synced.
 */
import type { Quality, ReadingDraft } from '../core/reading.js';
import { correctToReferenceO2 } from './conversions.js';
import { PointMap } from '../core/point-map.js';
import { seriesKey, type ProcessingPlan } from './plan.js';
import { counts } from './rules.js';

export interface QualitySettings {
  /** Identical register words for this long are `stale`, minutes; 0 turns the check off. */
  staleMinutes: number;
  /** Values within the tolerance for this long are `flat_line`, minutes; 0 turns it off. */
  flatLineMinutes: number;
  /** Band a flat line stays in, % of the point's measuring range. */
  flatLineTolerancePct: number;
  /** Jump from the recent median that is a `spike`, % of the measuring range; 0 turns it off. */
  spikePctOfRange: number;
  /** Band under a limit that counts as held just under it, % of the limit. */
  clipBandPct: number;
  /** How long every value must stay in that band, minutes; 0 turns the check off. */
  clipMinutes: number;
}

export const DEFAULT_QUALITY: QualitySettings = {
  staleMinutes: 10,
  flatLineMinutes: 60,
  flatLineTolerancePct: 0.5,
  spikePctOfRange: 25,
  clipBandPct: 5,
  clipMinutes: 60,
};

/** Valid values the spike check takes the median of. */
export const SPIKE_WINDOW = 5;
const MIN = 60_000;

/** Whether the system clock is synchronised (NTP): undefined when it cannot be told. */
export type ClockSyncProbe = () => boolean | undefined;

export type QualityCounts = Partial<Record<Quality, number>>;

interface Limit {
  max: number;
  o2?: { key: string; ref: number; guard: number };
}

const NO_LIMITS: readonly Limit[] = Object.freeze([]);

/**
 * What the checks remember of one series. Every polled point has one, so it is one object of
 * plain number fields (NaN: no run yet) with the spike window as a ring of SPIKE_WINDOW values.
 */
class SeriesState {
  limits: readonly Limit[] = NO_LIMITS;
  /** The series' key when an outlet's O2 correction reads it (its latest valid value is kept). */
  o2Key: string | undefined = undefined;
  /** The value (its register words when it has them) unchanged since `staleSince`. */
  staleRaw: readonly number[] | undefined = undefined;
  staleValue = 0;
  staleSince = NaN;
  /** Values within the flat-line tolerance since `flatSince`, between `flatLo` and `flatHi`. */
  flatSince = NaN;
  flatLo = 0;
  flatHi = 0;
  /** The last `recentCount` valid values, the oldest at `recentNext` once the ring is full. */
  readonly recent: number[] = new Array<number>(SPIKE_WINDOW).fill(0);
  recentCount = 0;
  recentNext = 0;
  /** Since when every value is held just under a limit. */
  clipSince = NaN;

  constructor(readonly range: readonly [number, number] | undefined) {}

  remember(v: number): void {
    this.recent[this.recentNext] = v;
    this.recentNext = (this.recentNext + 1) % SPIKE_WINDOW;
    if (this.recentCount < SPIKE_WINDOW) this.recentCount++;
  }
}

export class QualityChecks {
  /** Each series' state by device and point, for each reading. */
  private readonly seriesAt = new PointMap<SeriesState>();
  /** Latest valid O2 per series key, for limits judged at the reference O2. */
  private readonly o2 = new Map<string, number>();
  private readonly counted: QualityCounts = {};
  private readonly scratch: number[] = [];

  constructor(
    plan: ProcessingPlan,
    readonly settings: QualitySettings = plan.quality ?? DEFAULT_QUALITY,
    private readonly clockSynced: ClockSyncProbe = () => undefined,
  ) {
    // By `device/point` too, as the outlets name their O2 and limit series.
    const byKey = new Map<string, SeriesState>();
    for (const s of plan.series) {
      const state = new SeriesState(s.range);
      byKey.set(seriesKey(s.device, s.point), state);
      this.seriesAt.set(s.device, s.point, state);
    }
    for (const o of plan.outlets) {
      const o2 = o.o2 === undefined ? undefined : byKey.get(o.o2);
      if (o2) o2.o2Key = o.o2;
      for (const l of o.limits) {
        const o2 =
          l.corrected && o.o2 !== undefined && o.referenceO2Pct !== undefined
            ? { key: o.o2, ref: o.referenceO2Pct, guard: o.o2GuardPct }
            : undefined;
        const state = byKey.get(seriesKey(l.device, l.point));
        if (state) state.limits = [...state.limits, { max: l.max, ...(o2 ? { o2 } : {}) }];
      }
    }
  }

  /**
   * The batch with reasons added where a check holds; value and flag are never changed.
   * `count: false` only feeds the windows (replaying the log at start).
   */
  check(readings: readonly ReadingDraft[], count = true): ReadingDraft[] {
    const synced = count ? this.clockSynced() : undefined;
    return readings.map((r) => {
      let found = this.judge(r);
      if (synced === false) found = [...found, 'clock_unsynchronised'];
      if (found.length === 0 || !count) return r;
      for (const q of found) this.counted[q] = (this.counted[q] ?? 0) + 1;
      const quality = [...(r.quality ?? [])];
      for (const q of found) if (!quality.includes(q)) quality.push(q);
      return { ...r, quality };
    });
  }

  /** Readings flagged per reason since this object was made. */
  counts(): QualityCounts {
    return { ...this.counted };
  }

  /**
   * The reasons that hold for one reading (NONE, shared, when none does). Runs for every reading,
   * so it keeps its state in place and allocates only for a reason found.
   */
  private judge(r: ReadingDraft): readonly Quality[] {
    const s = this.seriesAt.get(r.device, r.point);
    const v = r.value;
    if (!s || typeof v !== 'number' || !Number.isFinite(v) || !counts(r.flag)) return NONE;
    if (s.o2Key !== undefined) this.o2.set(s.o2Key, v);
    let found: Quality[] | undefined;
    const span = s.range ? s.range[1] - s.range[0] : undefined;
    const set = this.settings;

    if (Number.isNaN(s.staleSince) || !sameReading(s, r.raw, v)) {
      s.staleRaw = r.raw;
      s.staleValue = v;
      s.staleSince = r.ts;
    } else if (set.staleMinutes > 0 && r.ts - s.staleSince >= set.staleMinutes * MIN)
      (found ??= []).push('stale');

    const tol = span === undefined ? 0 : (span * set.flatLineTolerancePct) / 100;
    if (Number.isNaN(s.flatSince) || Math.max(s.flatHi, v) - Math.min(s.flatLo, v) > tol) {
      s.flatSince = r.ts;
      s.flatLo = v;
      s.flatHi = v;
    } else {
      s.flatLo = Math.min(s.flatLo, v);
      s.flatHi = Math.max(s.flatHi, v);
      if (set.flatLineMinutes > 0 && r.ts - s.flatSince >= set.flatLineMinutes * MIN)
        (found ??= []).push('flat_line');
    }

    if (span !== undefined && set.spikePctOfRange > 0 && s.recentCount === SPIKE_WINDOW) {
      if (Math.abs(v - this.median(s.recent)) > (span * set.spikePctOfRange) / 100)
        (found ??= []).push('spike');
    }
    s.remember(v);

    if (s.range && v < s.range[0]) (found ??= []).push('out_of_range');

    if (s.limits.length > 0 && set.clipMinutes > 0) {
      const held = s.limits.some((l) => {
        const o2 = l.o2 ? this.o2.get(l.o2.key) : undefined;
        if (l.o2 && o2 === undefined) return false;
        const judged = l.o2 ? correctToReferenceO2(v, o2!, l.o2.ref, l.o2.guard).value : v;
        return judged <= l.max && judged >= l.max * (1 - set.clipBandPct / 100);
      });
      if (!held) s.clipSince = NaN;
      else {
        if (Number.isNaN(s.clipSince)) s.clipSince = r.ts;
        if (r.ts - s.clipSince >= set.clipMinutes * MIN) (found ??= []).push('clipped_below_limit');
      }
    }
    return found ?? NONE;
  }

  /** Median of the (full) spike window, sorted in a scratch array kept for it. */
  private median(values: readonly number[]): number {
    // Insertion sort into a scratch array: a handful of values, and Array#sort allocates a work
    // area on every call, which at one call per reading was the largest allocation of the thread.
    const v = this.scratch;
    const n = values.length;
    for (let i = 0; i < n; i++) {
      const x = values[i]!;
      let j = i;
      for (; j > 0 && v[j - 1]! > x; j--) v[j] = v[j - 1]!;
      v[j] = x;
    }
    const m = Math.floor(n / 2);
    return n % 2 === 1 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
  }
}

const NONE: readonly Quality[] = Object.freeze([]);

/** Whether a reading repeats the last one exactly: the same register words, or the same value. */
function sameReading(last: SeriesState, raw: readonly number[] | undefined, value: number): boolean {
  const before = last.staleRaw;
  if (raw === undefined || before === undefined) return raw === before && value === last.staleValue;
  if (raw.length !== before.length) return false;
  for (let i = 0; i < raw.length; i++) if (raw[i] !== before[i]) return false;
  return true;
}
