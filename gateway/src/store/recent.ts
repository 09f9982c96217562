/**
 * The rows of the readings the log committed last, kept in memory so the readers that follow the
 * log (the uplinks, processing) get what was just committed without reading it back from SQLite.
 * It gives rows back exactly as they were inserted, so a record made from them is the record a
 * read from the file makes. It only ever answers for a range it holds completely: every record
 * above `from` is in it. A write of anything else (an event, an aggregate, an eviction) resets
 * it, so a reader further back, or across such a write, reads the file as before.
 *
 * The rows live in columns (typed arrays over a ring), not as one array per row: at tens of
 * thousands of readings a second a row stays here longer than the young generation's collections
 * are apart, and as JavaScript objects (the row, its numbers, its raw words' Buffer) every one
 * would be promoted to the old generation only to die there, adding to the full collections of a
 * saturated gateway (docs/store.md, "Reading what was just committed"). The columns are
 * allocated once; only what is rare (a value that is not a number, quality reasons, raw words
 * longer than RAW_INLINE bytes) is kept as an object beside them. Missed slots are not rare: past
 * its capacity every reading of a gateway carries them, so they have columns of their own, and
 * each row handed out gets a fresh `{ slots, from, periodMs }` (the log stores the same three as
 * JSON).
 */
import { sameOrNewMissed, type MissedSlots } from '../core/reading.js';

export type Row = unknown[];

/** Raw register bytes kept inline per row: up to four words, a 64-bit value. */
const RAW_INLINE = 8;

/** What a row has beyond the columns, when it has anything. */
interface Extra {
  /** The value, when it is not a number (a string or null). */
  value?: unknown;
  quality: unknown;
  /** Raw bytes too long to keep inline. */
  raw: unknown;
}

/** A row of its own, raw bytes copied out of the ring. */
const copyRow = (row: Row): Row => row.map((v) => (v instanceof Uint8Array ? Buffer.from(v) : v));

export class RecentRows {
  private readonly seq: Float64Array;
  private readonly ts: Float64Array;
  private readonly pid: Float64Array;
  private readonly num: Float64Array;
  /** Flag of each row, as an index into `flags`. */
  private readonly flag: Uint8Array;
  /** Bytes of the inline raw words of each row; 0 when none or not inline. */
  private readonly rawLen: Uint8Array;
  private readonly rawBytes: Uint8Array;
  private readonly extra: (Extra | undefined)[];
  /** Missed slots of each row: 0 slots when none. */
  private readonly missedSlots: Float64Array;
  private readonly missedFrom: Float64Array;
  private readonly missedPeriod: Float64Array;
  /** The missed slots last made by `fill` in the current slice (each slice makes its own). */
  private missedMade: MissedSlots | null = null;
  /** The flags seen, in the order first seen (a handful: the flag set is closed). */
  private readonly flags: unknown[] = [];
  /** The row `slice` hands to its `make`, refilled for each. */
  private readonly scratch: Row = new Array<unknown>(8).fill(null);
  /** Physical index of the oldest row held, and how many are held. */
  private start = 0;
  private count = 0;
  /** Every record with a seq above this is held; Infinity until the log says where it stands. */
  private from = Number.POSITIVE_INFINITY;

  constructor(private readonly maxRows: number) {
    this.seq = new Float64Array(maxRows);
    this.ts = new Float64Array(maxRows);
    this.pid = new Float64Array(maxRows);
    this.num = new Float64Array(maxRows);
    this.flag = new Uint8Array(maxRows);
    this.rawLen = new Uint8Array(maxRows);
    this.rawBytes = new Uint8Array(maxRows * RAW_INLINE);
    this.extra = new Array<Extra | undefined>(maxRows).fill(undefined);
    this.missedSlots = new Float64Array(maxRows);
    this.missedFrom = new Float64Array(maxRows);
    this.missedPeriod = new Float64Array(maxRows);
  }

  /** Nothing above `lastSeq` exists yet, and nothing at or below it is held. */
  reset(lastSeq: number): void {
    this.extra.fill(undefined);
    this.start = 0;
    this.count = 0;
    this.from = lastSeq;
  }

  /**
   * The rows of one committed write of readings, in seq order, each as inserted:
   * [seq, ts, point id, value, flag, quality, raw, missed].
   */
  add(rows: readonly Row[]): void {
    for (const r of rows) {
      if (this.count === this.maxRows) {
        this.from = this.seq[this.start]!;
        this.extra[this.start] = undefined;
        this.start = this.start + 1 === this.maxRows ? 0 : this.start + 1;
        this.count--;
      }
      this.put(this.physical(this.count), r);
      this.count++;
    }
  }

  /**
   * Held rows with `after < seq <= until`, at most `limit`, each passed through `make`;
   * undefined when the range is not all held. `make` gets one scratch row, refilled for each,
   * whose raw Buffer is a view of the ring: it must take what it needs and keep neither (the
   * log makes its record of it at once). The default copies the row. Without `withRaw` the raw
   * column is null in every row (no view of the ring is made), for a reader that has no use for it.
   */
  slice<T = Row>(
    after: number,
    limit: number,
    until: number,
    make: (row: Row) => T = copyRow as (row: Row) => T,
    withRaw = true,
  ): T[] | undefined {
    if (after < this.from) return undefined;
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.seq[this.physical(mid)]! <= after) lo = mid + 1;
      else hi = mid;
    }
    const out: T[] = [];
    const row = this.scratch;
    this.missedMade = null;
    for (let i = lo; i < this.count && out.length < limit; i++) {
      const p = this.physical(i);
      if (this.seq[p]! > until) break;
      this.fill(row, p, withRaw);
      out.push(make(row));
    }
    return out;
  }

  /** Rows held now. */
  get size(): number {
    return this.count;
  }

  private physical(i: number): number {
    const p = this.start + i;
    return p >= this.maxRows ? p - this.maxRows : p;
  }

  private put(p: number, r: Row): void {
    const [seq, ts, pid, value, flag, quality = null, raw = null, missed = null] = r;
    this.seq[p] = seq as number;
    this.ts[p] = ts as number;
    this.pid[p] = pid as number;
    this.flag[p] = this.flagIndex(flag);
    const numeric = typeof value === 'number';
    this.num[p] = numeric ? value : 0;
    const inline = raw instanceof Uint8Array && raw.length > 0 && raw.length <= RAW_INLINE;
    this.rawLen[p] = inline ? raw.length : 0;
    if (inline) this.rawBytes.set(raw, p * RAW_INLINE);
    const m = missed as MissedSlots | null;
    this.missedSlots[p] = m === null ? 0 : m.slots;
    if (m !== null) {
      this.missedFrom[p] = m.from;
      this.missedPeriod[p] = m.periodMs;
    }
    this.extra[p] =
      numeric && quality === null && (inline || raw === null)
        ? undefined
        : { ...(numeric ? {} : { value }), quality, raw: inline ? null : raw };
  }

  private fill(row: Row, p: number, withRaw: boolean): void {
    const x = this.extra[p];
    const len = this.rawLen[p]!;
    row[0] = this.seq[p];
    row[1] = this.ts[p];
    row[2] = this.pid[p];
    row[3] = x && 'value' in x ? x.value : this.num[p];
    row[4] = this.flags[this.flag[p]!];
    row[5] = x ? x.quality : null;
    row[6] = !withRaw
      ? null
      : len > 0
        ? Buffer.from(this.rawBytes.buffer, p * RAW_INLINE, len)
        : x
          ? x.raw
          : null;
    const slots = this.missedSlots[p]!;
    if (slots === 0) row[7] = null;
    else {
      // The rows of one poll carry the same slots: one object for them in a slice.
      this.missedMade = sameOrNewMissed(this.missedMade, slots, this.missedFrom[p]!, this.missedPeriod[p]!);
      row[7] = this.missedMade;
    }
  }

  private flagIndex(flag: unknown): number {
    const i = this.flags.indexOf(flag);
    if (i >= 0) return i;
    if (this.flags.length > 255) throw new RangeError(`recent rows: more than 256 flags (${String(flag)})`);
    this.flags.push(flag);
    return this.flags.length - 1;
  }
}
