/**
 * A set of integers kept as sorted, disjoint, non-adjacent closed ranges. Sequence numbers
 * arrive in long runs, so a cursor or a receiver that tracks millions of them holds a handful
 * of ranges, not millions of entries.
 */
export type SeqRange = readonly [from: number, to: number];

export class RangeSet {
  private ranges: [number, number][] = [];

  constructor(initial: Iterable<SeqRange> = []) {
    for (const [a, b] of initial) this.add(a, b);
  }

  /** Adds `from..to` (inclusive); returns how many of those numbers were already present. */
  add(from: number, to: number = from): number {
    if (to < from) return 0;
    const rs = this.ranges;
    // First range that ends at or after from - 1 (could merge with it).
    const i = this.lowerBound(from - 1);
    let overlap = 0;
    let lo = from;
    let hi = to;
    let j = i;
    while (j < rs.length && rs[j]![0] <= to + 1) {
      const [a, b] = rs[j]!;
      overlap += Math.max(0, Math.min(b, to) - Math.max(a, from) + 1);
      lo = Math.min(lo, a);
      hi = Math.max(hi, b);
      j++;
    }
    rs.splice(i, j - i, [lo, hi]);
    return overlap;
  }

  has(n: number): boolean {
    const r = this.ranges[this.lowerBound(n)];
    return r !== undefined && r[0] <= n;
  }

  /** How many numbers in `from..to` are present. */
  countIn(from: number, to: number): number {
    let n = 0;
    for (let i = this.lowerBound(from); i < this.ranges.length; i++) {
      const [a, b] = this.ranges[i]!;
      if (a > to) break;
      n += Math.min(b, to) - Math.max(a, from) + 1;
    }
    return n;
  }

  /** The ranges inside `from..to` that are NOT present. */
  missingIn(from: number, to: number): SeqRange[] {
    const out: SeqRange[] = [];
    let at = from;
    for (let i = this.lowerBound(from); i < this.ranges.length && at <= to; i++) {
      const [a, b] = this.ranges[i]!;
      if (a > to) break;
      if (a > at) out.push([at, a - 1]);
      at = Math.max(at, b + 1);
    }
    if (at <= to) out.push([at, to]);
    return out;
  }

  /** The first range that contains `n` or lies above it. */
  rangeAtOrAfter(n: number): SeqRange | undefined {
    return this.ranges[this.lowerBound(n)];
  }

  /** Removes every number up to and including `n`. */
  dropThrough(n: number): void {
    while (this.ranges.length > 0 && this.ranges[0]![1] <= n) this.ranges.shift();
    const first = this.ranges[0];
    if (first && first[0] <= n) first[0] = n + 1;
  }

  get size(): number {
    let n = 0;
    for (const [a, b] of this.ranges) n += b - a + 1;
    return n;
  }

  get rangeCount(): number {
    return this.ranges.length;
  }

  first(): SeqRange | undefined {
    return this.ranges[0];
  }

  last(): SeqRange | undefined {
    return this.ranges[this.ranges.length - 1];
  }

  toArray(): SeqRange[] {
    return this.ranges.map(([a, b]) => [a, b] as const);
  }

  /** Index of the first range whose end is >= n. */
  private lowerBound(n: number): number {
    let lo = 0;
    let hi = this.ranges.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.ranges[mid]![1] < n) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
