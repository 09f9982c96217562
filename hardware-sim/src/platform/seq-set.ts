/**
 * A set of sequence numbers kept as sorted, disjoint, inclusive ranges: a platform that has
 * received millions of records in order holds one range, not millions of numbers.
 */
export type SeqRange = readonly [from: number, to: number];

export class SeqSet {
  private readonly ranges: [number, number][] = [];
  private count = 0;

  /** Number of distinct seqs held. */
  get size(): number {
    return this.count;
  }

  /** Index of the first range whose end is at or after `seq` - 1 (where `seq` could join). */
  private at(seq: number): number {
    let lo = 0;
    let hi = this.ranges.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.ranges[mid]![1] < seq - 1) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  has(seq: number): boolean {
    const r = this.ranges[this.at(seq + 1)];
    return r !== undefined && r[0] <= seq && seq <= r[1];
  }

  /** The parts of [from, to] not in the set, in order. */
  missingIn(from: number, to: number): [number, number][] {
    const out: [number, number][] = [];
    let next = from;
    for (let i = this.at(from + 1); i < this.ranges.length && next <= to; i++) {
      const [a, b] = this.ranges[i]!;
      if (a > to) break;
      if (a > next) out.push([next, a - 1]);
      next = Math.max(next, b + 1);
    }
    if (next <= to) out.push([next, to]);
    return out;
  }

  /** Adds [from, to]; returns how many of its seqs were new. */
  add(from: number, to = from): number {
    const fresh = this.missingIn(from, to).reduce((n, [a, b]) => n + b - a + 1, 0);
    if (fresh === 0) return 0;
    const i = this.at(from);
    let j = i;
    let lo = from;
    let hi = to;
    // Merge every range that overlaps or touches [from, to].
    while (j < this.ranges.length && this.ranges[j]![0] <= to + 1) {
      lo = Math.min(lo, this.ranges[j]![0]);
      hi = Math.max(hi, this.ranges[j]![1]);
      j++;
    }
    this.ranges.splice(i, j - i, [lo, hi]);
    this.count += fresh;
    return fresh;
  }

  /** The highest seq held, or 0. */
  last(): number {
    return this.ranges.at(-1)?.[1] ?? 0;
  }

  toArray(): SeqRange[] {
    return this.ranges.map(([a, b]) => [a, b] as const);
  }
}
