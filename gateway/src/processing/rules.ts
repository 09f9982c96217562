/**
 * HJ 75 / HJ 212 validity and flag rules, shared by minute, hour and day aggregation.
 *
 * - Samples flagged C (calibration), M (maintenance), D (fault), F (stopped), B (communication)
 *   or T (above the measuring range) are excluded from every average; N and S count.
 * - A minute needs `minSamples` valid samples (HJ 212-2017 附录 D formula 23: 12 at 5 s), an
 *   hour 45 valid minutes (formula 24), a day 20 valid hours (formula 25); a dust point's
 *   quarter-hour 12 valid minutes (the same 75 %).
 * - The period's flag follows from its inputs: N when valid (S when a manually set value is
 *   among the averaged ones); otherwise the most frequent excluded flag of the inputs, or D when
 *   too few inputs came at all (HJ 212-2017 notes under 表 C.16-C.18: an interval with under
 *   75 % normal values is flagged D).
 */
import { FLAG_PRECEDENCE, type Flag } from '../core/flags.js';
import type { AggregatePeriodKind } from './types.js';

export const EXCLUDED_FLAGS: ReadonlySet<Flag> = new Set<Flag>(['C', 'M', 'D', 'F', 'B', 'T']);

/** Valid inputs an hour and a day need (HJ 75-2017; HJ 212-2017 附录 D formulas 24, 25). */
export const MIN_VALID_MINUTES_PER_HOUR = 45;
export const MIN_VALID_HOURS_PER_DAY = 20;
/** Valid minutes a dust quarter-hour needs: 75 %, the share HJ 75 asks of an hour (45 of 60). */
export const MIN_VALID_MINUTES_PER_QUARTER = 12;

export function required(kind: AggregatePeriodKind, minSamples: number): number {
  switch (kind) {
    case 'minute':
      return minSamples;
    case 'quarter_hour':
      return MIN_VALID_MINUTES_PER_QUARTER;
    case 'hour':
      return MIN_VALID_MINUTES_PER_HOUR;
    case 'day':
      return MIN_VALID_HOURS_PER_DAY;
  }
}

/** An input (sample or lower-level aggregate) counts when its flag is N or S. */
export function counts(flag: Flag): boolean {
  return !EXCLUDED_FLAGS.has(flag);
}

/**
 * Flags of a period's inputs, counted: one small-integer field per flag. Every open period of
 * every series has one, so it is a plain object of fields (a Map per tally cost twice the heap).
 */
export class FlagTally implements Record<Flag, number> {
  B = 0;
  D = 0;
  F = 0;
  M = 0;
  C = 0;
  S = 0;
  T = 0;
  N = 0;
  total = 0;

  add(flag: Flag, times = 1): void {
    this[flag] += times;
    this.total += times;
  }

  get(flag: Flag): number {
    return this[flag];
  }

  /** The period's flag, given how many valid inputs it had and needs. */
  periodFlag(valid: number, needed: number): Flag {
    if (valid >= needed) return this.S > 0 ? 'S' : 'N';
    let best: Flag | undefined;
    for (const f of FLAG_PRECEDENCE) {
      if (!EXCLUDED_FLAGS.has(f)) continue;
      if (this[f] > (best === undefined ? 0 : this[best])) best = f;
    }
    return best ?? 'D';
  }
}

/** Running min / mean / max of valid inputs. */
export class Stats {
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;

  add(v: number, lo = v, hi = v): void {
    this.count++;
    this.sum += v;
    if (lo < this.min) this.min = lo;
    if (hi > this.max) this.max = hi;
  }

  get avg(): number | null {
    return this.count === 0 ? null : this.sum / this.count;
  }

  get low(): number | null {
    return this.count === 0 ? null : this.min;
  }

  get high(): number | null {
    return this.count === 0 ? null : this.max;
  }
}
