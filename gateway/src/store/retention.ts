/**
 * Retention by age and by disk quota.
 *
 * Age: records every uplink has delivered and that are older than `maxAgeMs` are deleted.
 * Quota: when the log uses more than `quotaBytes`, records are evicted down to 90 % of it in
 * this order: (1) blobs every uplink already has; (2) records every uplink already has, oldest
 * first; (3) undelivered blobs, oldest first (pictures are large and are evidence beside the
 * readings, not instead of them); (4) undelivered raw readings, oldest first; (5) undelivered
 * aggregates. Events are never evicted
 * before delivery. Every eviction of undelivered records appends a `gap` event, in the same
 * transaction, naming the sequence range, the reason and the uplinks that lose data; the gap
 * event itself is delivered like any record.
 */
import { statSync } from 'node:fs';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Log } from './log.js';
import type { GapPayload, RecordType } from './records.js';
import type { SqliteDb } from './schema.js';

export interface RetentionOptions {
  /** Upper bound of the log's disk use in bytes (pages in use plus WAL). Default: no quota. */
  quotaBytes?: number;
  /** Delivered records older than this many milliseconds are deleted. Default: kept. */
  maxAgeMs?: number;
  /** Age retention runs at most this often, milliseconds. Default 60 000. */
  ageCheckEveryMs?: number;
}

/** After an eviction the log is brought down to this share of the quota. */
const LOW_WATER = 0.9;
const MAX_CHUNKS = 200;
/** Room left in the quota for the high-water mark and the file system's rounding. */
const FILE_SLACK = 8192;
const AGE_DELETE_CHUNK = 50_000;
/**
 * A write is counted as this many times its records' average size: new records may be larger
 * than the average, and indexes and half-full pages grow with them.
 */
const GROWTH_MARGIN = 2;

const TABLES: { table: string; type: RecordType; ts: string }[] = [
  { table: 'blobs', type: 'blob', ts: 'ts' },
  { table: 'readings', type: 'reading', ts: 'ts' },
  { table: 'aggregates', type: 'aggregate', ts: 'start' },
  { table: 'events', type: 'event', ts: 'ts' },
];
/** Undelivered kinds in eviction order; events are not in it. */
const EVICTABLE = TABLES.slice(0, 3);

export class Retention {
  private lastAgeRun = Number.NEGATIVE_INFINITY;
  private warnedFull = false;
  private readonly pageCount;
  private readonly freeCount;
  private readonly pageSize: number;
  private readonly walBudget: number | undefined;
  /** Bytes the writes since the last measurement may have added (estimates, see GROWTH_MARGIN). */
  private unmeasured = 0;
  /** Room under the file budget at the last measurement; 0 measures at the next commit. */
  private headroom = 0;
  /** Bytes per record at the last measurement. */
  private rowBytes = 64;

  constructor(
    private readonly log: Log,
    private readonly db: SqliteDb,
    private readonly options: RetentionOptions,
    private readonly env: { clock: Clock; logger: Logger },
  ) {
    this.pageCount = db.prepare('PRAGMA page_count').pluck();
    this.freeCount = db.prepare('PRAGMA freelist_count').pluck();
    this.pageSize = db.pragma('page_size', { simple: true }) as number;
    if (options.quotaBytes !== undefined) {
      // The WAL is part of the quota: a tenth of it (16 to 1000 pages), truncated back to that
      // after every checkpoint, and checkpointed at once when one big transaction overshoots.
      const pages = Math.min(1000, Math.max(16, Math.round(options.quotaBytes / this.pageSize / 10)));
      this.walBudget = pages * this.pageSize;
      db.pragma(`wal_autocheckpoint = ${pages}`);
      db.pragma(`journal_size_limit = ${this.walBudget}`);
    }
  }

  /** What the log takes on disk: the whole file (free pages included) plus the WAL file. */
  usedBytes(): number {
    return (this.pageCount.get() as number) * this.pageSize + this.walBytes();
  }

  /** Bytes of the pages in use, not on the free list. */
  private inUseBytes(): number {
    return ((this.pageCount.get() as number) - (this.freeCount.get() as number)) * this.pageSize;
  }

  private walBytes(): number {
    try {
      return statSync(`${this.log.path}-wal`).size;
    } catch {
      return 0; // No WAL file: nothing pending.
    }
  }

  /**
   * The pages the file may use: the quota less the WAL's share and the mark. The file only
   * grows when no free page is left, so keeping the pages in use under this keeps the file under it.
   */
  private fileBudget(quota: number): number {
    return quota - (this.walBudget ?? 0) - FILE_SLACK;
  }

  /** Average bytes per record, from O(1) counters (the record count is kept in `meta`). */
  private perRow(): number {
    const rows = this.log.rowCount;
    return rows < 64 ? 64 : Math.max(16, this.inUseBytes() / rows);
  }

  /** Before a write of `rows` records: evicts first if they would not fit in the quota. */
  makeRoom(rows: number): void {
    this.makeRoomBytes(rows * this.rowBytes);
  }

  /** Before a write of one record of about `bytes` (a blob). */
  makeRoomBytes(bytes: number): void {
    this.enforceQuota(bytes);
    const growth = GROWTH_MARGIN * bytes;
    this.unmeasured += growth;
  }

  maintain(forceAge = false): void {
    // Every commit writes at least a page, whatever it holds (events, aggregates, cursors).
    this.unmeasured += this.pageSize;
    // The WAL grows by whole commits before SQLite checkpoints it: one `stat` per commit keeps
    // it within its share (a transaction larger than the share is checkpointed at once).
    if (this.options.quotaBytes !== undefined && this.walBytes() > (this.walBudget ?? Infinity))
      this.checkpoint();
    const now = this.env.clock.now();
    if (
      this.options.maxAgeMs !== undefined &&
      (forceAge || now - this.lastAgeRun >= (this.options.ageCheckEveryMs ?? 60_000))
    ) {
      this.lastAgeRun = now;
      this.deleteOld(now - this.options.maxAgeMs);
    }
    this.enforceQuota();
  }

  private deliveredThrough(): number {
    const cursors = this.log.allCursors();
    return cursors.length === 0 ? 0 : Math.min(...cursors.map((c) => c.prefix));
  }

  private checkpoint(): void {
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  private deleteOld(cutoff: number): void {
    const limit = this.deliveredThrough();
    for (const { table, ts } of TABLES) {
      const bound = this.lastOlderThan(table, ts, cutoff, limit);
      if (bound === 0) continue;
      const del = this.db.prepare(
        `DELETE FROM ${table} WHERE seq IN (SELECT seq FROM ${table} WHERE seq <= ? ORDER BY seq LIMIT ${AGE_DELETE_CHUNK})`,
      );
      let n = 0;
      do {
        this.log.write(() => {
          n = del.run(bound).changes;
          this.log.countDeleted(n);
        });
      } while (n === AGE_DELETE_CHUNK);
    }
  }

  /** Largest seq <= limit whose record is older than cutoff, assuming ts grows with seq. */
  private lastOlderThan(table: string, ts: string, cutoff: number, limit: number): number {
    const probe = this.db.prepare(
      `SELECT seq, ${ts} AS ts FROM ${table} WHERE seq >= ? ORDER BY seq LIMIT 1`,
    );
    const at = (n: number) => probe.get(n) as { seq: number; ts: number } | undefined;
    const old = (r: { seq: number; ts: number } | undefined): r is { seq: number; ts: number } =>
      r !== undefined && r.seq <= limit && r.ts < cutoff;
    const first = at(0);
    if (!old(first)) return 0;
    let lo = first.seq;
    let hi = limit;
    while (lo < hi) {
      const mid = Math.floor((lo + hi + 1) / 2);
      const r = at(mid);
      if (old(r)) lo = r.seq;
      else hi = mid - 1;
    }
    return lo;
  }

  /**
   * Keeps the log under its quota. Between measurements it only counts: every write adds an upper
   * estimate of its growth, and while the sum stays inside the room the last measurement found,
   * a commit costs no system call and no query (O(1)). Past that, or after one large write, it
   * measures the file and the WAL, evicts if they are over, and starts counting again.
   */
  private enforceQuota(incoming = 0): void {
    const quota = this.options.quotaBytes;
    if (quota === undefined) return;
    // Counted with the margin; the eviction below sizes itself by the estimate, as measured.
    if (this.unmeasured + GROWTH_MARGIN * incoming < this.headroom) return;
    this.unmeasured = 0;
    this.headroom = 0;
    if (this.walBytes() > (this.walBudget ?? Infinity)) this.checkpoint();
    const budget = this.fileBudget(quota);
    let used = this.inUseBytes();
    this.rowBytes = this.perRow();
    if (used + incoming <= budget) {
      this.headroom = budget - used;
      return;
    }
    this.checkpoint();
    const target = Math.max(0, budget * LOW_WATER - incoming);
    for (let i = 0; i < MAX_CHUNKS && used > target; i++) {
      const rows = Math.max(64, Math.ceil((used - target) / this.perRow()));
      if (
        !this.evictDeliveredBlobs() &&
        !this.evictDelivered(rows) &&
        !this.evictUndelivered(rows, used - target)
      ) {
        if (!this.warnedFull) {
          this.env.logger.warn(
            { file: this.log.path, used, quota },
            'log over quota with nothing left to evict but events',
          );
        }
        this.warnedFull = true;
        return;
      }
      this.checkpoint();
      used = this.inUseBytes();
    }
    this.warnedFull = false;
    this.rowBytes = this.perRow();
    this.headroom = Math.max(0, budget - used - incoming);
  }

  /** Seq of the n-th oldest row of `table` with seq > after, or the last one if fewer. */
  private nthSeq(
    table: string,
    after: number,
    n: number,
    limit = Number.MAX_SAFE_INTEGER,
  ): number | undefined {
    const sql = `SELECT seq FROM ${table} WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT 1 OFFSET ?`;
    const nth = this.db
      .prepare(sql)
      .pluck()
      .get(after, limit, n - 1) as number | undefined;
    if (nth !== undefined) return nth;
    return this.db
      .prepare(`SELECT max(seq) FROM ${table} WHERE seq > ? AND seq <= ?`)
      .pluck()
      .get(after, limit) as number | undefined;
  }

  /** Every blob every uplink has: no gap event, nothing is lost to the far side. */
  private evictDeliveredBlobs(): boolean {
    const through = this.deliveredThrough();
    if (through === 0) return false;
    let changes = 0;
    this.log.write(() => {
      changes = this.db.prepare('DELETE FROM blobs WHERE seq <= ?').run(through).changes;
      this.log.countDeleted(changes);
    });
    return changes > 0;
  }

  private evictDelivered(rows: number): boolean {
    const through = this.deliveredThrough();
    if (through === 0) return false;
    const bound = this.nthSeq('readings', 0, rows, through) ?? through;
    let changes = 0;
    this.log.write(() => {
      for (const { table } of TABLES) {
        changes += this.db.prepare(`DELETE FROM ${table} WHERE seq <= ?`).run(bound).changes;
      }
      this.log.countDeleted(changes);
    });
    return changes > 0;
  }

  private evictUndelivered(rows: number, bytes: number): boolean {
    for (const { table, type } of EVICTABLE) {
      const from = this.db.prepare(`SELECT min(seq) FROM ${table}`).pluck().get() as number | null;
      if (from === null) continue;
      // Blobs are counted by their size: one picture may be worth thousands of readings.
      const n = type === 'blob' ? Math.max(1, Math.ceil(bytes / this.averageBlobBytes())) : rows;
      const to = this.nthSeq(table, from - 1, n) ?? from;
      this.evictRange(table, type, from, to);
      return true;
    }
    return false;
  }

  private averageBlobBytes(): number {
    const avg = this.db.prepare('SELECT avg(length(bytes)) FROM blobs').pluck().get() as number | null;
    return Math.max(1024, avg ?? 1024);
  }

  /** Deletes `from..to` of one table and records the gap, all in one transaction. */
  private evictRange(table: string, type: RecordType, from: number, to: number): void {
    const cursors = this.log.allCursors();
    const before = cursors.map((c) => c.snapshot());
    // A failed transaction leaves nothing evicted: the cursors must not skip the range either.
    const rollback = () => cursors.forEach((c, i) => c.restore(before[i]!));
    this.log.write(() => {
      const count = this.db.prepare(`DELETE FROM ${table} WHERE seq BETWEEN ? AND ?`).run(from, to).changes;
      this.log.countDeleted(count);
      // Records of other kinds inside the range stay: the cursors skip only what is gone.
      const kept: number[] = [];
      for (const t of TABLES) {
        if (t.table === table) continue;
        kept.push(
          ...(this.db
            .prepare(`SELECT seq FROM ${t.table} WHERE seq BETWEEN ? AND ?`)
            .pluck()
            .all(from, to) as number[]),
        );
      }
      kept.sort((a, b) => a - b);
      const losing = cursors.filter((c) => !(c.prefix >= to)).map((c) => c.uplink);
      for (const c of cursors) {
        let at = from;
        for (const k of [...kept, to + 1]) {
          if (k > at) c.markDoneInMemory(at, k - 1);
          at = k + 1;
        }
        c.persistOrThrow();
      }
      const payload: GapPayload = { from, to, count, reason: 'quota', kinds: [type], uplinks: losing };
      this.log.insertEventInTransaction({ ts: this.env.clock.now(), kind: 'gap', payload });
      this.db.prepare(`UPDATE meta SET value = value + 1 WHERE key = 'gap_events'`).run();
      this.db.prepare(`UPDATE meta SET value = value + ? WHERE key = 'dropped_records'`).run(count);
      this.env.logger.warn(
        { file: this.log.path, ...payload },
        'log quota reached: undelivered records evicted',
      );
    }, rollback);
  }
}
