/**
 * The rows of the readings the log committed last, kept in memory so the readers that follow the
 * log (the uplinks, processing) get what was just committed without reading it back from SQLite.
 * It holds rows exactly as they were inserted, so a record made from them is the record a read
 * from the file makes. It only ever answers for a range it holds completely: every record above
 * `from` is in it. A write of anything else (an event, an aggregate, an eviction) resets it, so a
 * reader further back, or across such a write, reads the file as before.
 */
export type Row = unknown[];

export class RecentRows {
  private rows: Row[] = [];
  /** Index of the first row still held (rows before it are dropped, compacted now and then). */
  private head = 0;
  /** Every record with a seq above this is held; Infinity until the log says where it stands. */
  private from = Number.POSITIVE_INFINITY;

  constructor(private readonly maxRows: number) {}

  /** Nothing above `lastSeq` exists yet, and nothing at or below it is held. */
  reset(lastSeq: number): void {
    this.rows = [];
    this.head = 0;
    this.from = lastSeq;
  }

  /** The rows of one committed write of readings, seq first in each row, in seq order. */
  add(rows: readonly Row[]): void {
    for (const r of rows) this.rows.push(r);
    const excess = this.rows.length - this.head - this.maxRows;
    if (excess > 0) {
      this.head += excess;
      this.from = this.rows[this.head - 1]![0] as number;
      if (this.head >= this.maxRows) {
        this.rows = this.rows.slice(this.head);
        this.head = 0;
      }
    }
  }

  /** Held rows with `after < seq <= until`, at most `limit`; undefined when the range is not all held. */
  slice(after: number, limit: number, until: number): Row[] | undefined {
    if (after < this.from) return undefined;
    const rows = this.rows;
    let lo = this.head;
    let hi = rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((rows[mid]![0] as number) <= after) lo = mid + 1;
      else hi = mid;
    }
    const out: Row[] = [];
    for (let i = lo; i < rows.length && out.length < limit; i++) {
      if ((rows[i]![0] as number) > until) break;
      out.push(rows[i]!);
    }
    return out;
  }

  /** Rows held now. */
  get size(): number {
    return this.rows.length - this.head;
  }
}
