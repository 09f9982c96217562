/**
 * One cursor per uplink: every sequence number up to `prefix` is done (delivered, or evicted
 * and announced by a gap event), plus the done ranges above it (live batches acknowledged while
 * a replay is still behind them). Persisted on every change, so a restart resends only what
 * was in flight. A cursor that cannot be written (disk full) stays right in memory and tells
 * its owner, which retries later: acknowledging a message must never fail because of the disk.
 */
import type { SqliteDb } from './schema.js';
import { RangeSet, type SeqRange } from './ranges.js';

export interface CursorSnapshot {
  uplink: string;
  /** Every seq <= prefix is done. */
  prefix: number;
  /** Done ranges above the prefix, ascending, disjoint. */
  ranges: SeqRange[];
}

export class Cursor {
  private prefixSeq: number;
  private readonly above: RangeSet;
  private readonly save: (prefix: number, ranges: string) => void;
  private saved = true;

  /**
   * `onSaveFailed` is called when persisting throws (the cursor keeps its new position in
   * memory and `saved` is false until a later `persist()` succeeds); without it, the error throws.
   */
  constructor(
    readonly uplink: string,
    db: SqliteDb,
    private readonly onSaveFailed?: (cursor: Cursor, error: unknown) => void,
  ) {
    const row = db.prepare('SELECT prefix, ranges FROM cursors WHERE uplink = ?').get(uplink) as
      { prefix: number; ranges: string } | undefined;
    this.prefixSeq = row?.prefix ?? 0;
    this.above = new RangeSet(row ? (JSON.parse(row.ranges) as SeqRange[]) : []);
    const stmt = db.prepare(
      `INSERT INTO cursors (uplink, prefix, ranges) VALUES (?, ?, ?)
       ON CONFLICT (uplink) DO UPDATE SET prefix = excluded.prefix, ranges = excluded.ranges`,
    );
    this.save = (prefix, ranges) => stmt.run(uplink, prefix, ranges);
    if (!row) this.persist();
  }

  /** False while the latest position is only in memory (its write failed and awaits a retry). */
  get isSaved(): boolean {
    return this.saved;
  }

  get prefix(): number {
    return this.prefixSeq;
  }

  isDone(seq: number): boolean {
    return seq <= this.prefixSeq || this.above.has(seq);
  }

  /** The first done range at or above `seq` (above the prefix), to skip over when reading. */
  doneRangeAtOrAfter(seq: number): SeqRange | undefined {
    return this.above.rangeAtOrAfter(seq);
  }

  /** How many sequence numbers in `prefix+1 .. head` are done. */
  doneAbovePrefix(): number {
    return this.above.size;
  }

  /** Marks `from..to` done and persists the cursor. Safe to call for ranges already done. */
  markDone(from: number, to: number): void {
    this.markDoneInMemory(from, to);
    this.persist();
  }

  /** For callers that batch several changes into one transaction: persist() afterwards. */
  markDoneInMemory(from: number, to: number): void {
    if (to <= this.prefixSeq) return;
    this.above.add(Math.max(from, this.prefixSeq + 1), to);
    const first = this.above.first();
    if (first && first[0] <= this.prefixSeq + 1) {
      this.prefixSeq = first[1];
      this.above.dropThrough(first[1]);
    }
  }

  persist(): void {
    try {
      this.persistOrThrow();
    } catch (e) {
      if (!this.onSaveFailed) throw e;
      this.saved = false;
      this.onSaveFailed(this, e);
    }
  }

  /** Writes the cursor, throwing on failure: for use inside a transaction that must roll back. */
  persistOrThrow(): void {
    this.save(this.prefixSeq, JSON.stringify(this.above.toArray()));
    this.saved = true;
  }

  /** Puts the cursor back to a snapshot (a transaction that moved it rolled back). */
  restore(s: CursorSnapshot): void {
    this.prefixSeq = s.prefix;
    this.above.dropThrough(Number.MAX_SAFE_INTEGER);
    for (const [a, b] of s.ranges) this.above.add(a, b);
  }

  snapshot(): CursorSnapshot {
    return { uplink: this.uplink, prefix: this.prefixSeq, ranges: this.above.toArray() };
  }
}
