/**
 * The durable log: readings, aggregates, events and blobs appended under one gateway-wide
 * sequence number. Every append is one SQLite transaction; when `append*()` returns, the batch
 * is committed (see docs/store.md for what `synchronous` promises). Readers (the uplinks) walk
 * it in sequence order from their own cursors.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { systemClock, type Clock } from '../core/clock.js';
import { LantianError } from '../core/errors.js';
import type { Flag } from '../core/flags.js';
import { silentLogger, type Logger } from '../core/logger.js';
import type { MissedSlots, ReadingDraft } from '../core/reading.js';
import { Cursor } from './cursors.js';
import { readMark, SeqMark, type MarkState } from './mark.js';
import { PendingReadings, type UnloggedPayload } from './pending.js';
import { PointDictionary } from './dictionary.js';
import {
  checkAggregate,
  checkReading,
  checkTs,
  decodeMissed,
  decodeQuality,
  decodeRaw,
  encodeMissed,
  encodeQuality,
  encodeRaw,
  encodeAggregateDetail,
  encodeBlobDetail,
  checkBlob,
  type AggregateDraft,
  type BlobDraft,
  type EventDraft,
  type LogRecord,
} from './records.js';
import { RecentRows, type Row } from './recent.js';
import { Retention, type RetentionOptions } from './retention.js';
import { diskFullError, isDiskFull, openDatabase, sqliteCode, type SqliteDb } from './schema.js';

export interface LogOptions extends RetentionOptions {
  /** Path of the SQLite file; created (with its directory) when missing. */
  path: string;
  /** `normal` (default): committed data survives a killed process; `full`: also power loss. */
  synchronous?: 'normal' | 'full';
  /** `quick` (default) checks the file's integrity at open; `none` skips it (large logs, fast start). */
  integrityCheck?: 'quick' | 'none';
  /**
   * First sequence number when the file is created (ignored for an existing log); default 1.
   * Set it above the last seq of a log that had to be moved aside, so seqs never repeat.
   */
  startSeq?: number;
  /**
   * Last-resort cap of the file in bytes, above `quotaBytes`: the quota keeps events, so an
   * alarm storm during a long outage could otherwise fill the disk. Appends beyond it fail with
   * STORE_WRITE_FAILED. Default: none.
   */
  hardLimitBytes?: number;
  /**
   * Readings `accept()` keeps in memory while the log cannot write (disk full, I/O error);
   * beyond it the oldest overflow into an `unlogged` event. Default 50 000 (about 10 MB).
   */
  pendingMaxReadings?: number;
  /**
   * Newest readings held in memory for the readers that follow the head (a positive integer);
   * default RECENT_ROWS.
   */
  recentRows?: number;
  /** How often writes that failed (queued readings, cursors) are retried, milliseconds. Default 1000. */
  retryMs?: number;
  clock?: Clock;
  logger?: Logger;
}

export interface SeqSpan {
  first: number;
  last: number;
}

export interface DeviceCounters {
  /** Readings appended since the log was opened. */
  readings: number;
  /** Of those, readings whose flag is not N. */
  flagged: number;
  /** Newest reading timestamp, UTC ms. */
  lastTs: number;
}

export interface LogStats {
  lastSeq: number;
  /** Disk used by the log (see docs/store.md, "Retention and the quota"). */
  bytes: number;
  gapEvents: number;
  droppedRecords: number;
  boot: number;
  /** Readings waiting in memory because the log cannot write (disk full). */
  pendingReadings: number;
  /** Readings that never reached the log: recorded by `unlogged` events, or about to be. */
  unloggedReadings: number;
  /** Writes that failed since the log was opened (batches and cursors). */
  writeFailures: number;
}

/**
 * Readings held in memory after their commit. Followers at the head take them from there; the
 * uplinks' batches (up to 5 000 readings) and processing's pages fit, and so does the live lag
 * admission allows a saturated gateway (two uplink windows, 16 000 by default): past its
 * capacity an overloaded gateway read its backlog back from SQLite, a fifth of its main thread.
 * About 2.4 MB of typed-array columns (recent.ts). The gateway asks for this many from about 550
 * readings/s, for less at a smaller site (a minute of its polling, 2 048 rows at least), and for
 * two polls of every point more (`recentRowsFor` in gateway.ts).
 */
export const RECENT_ROWS = 32_768;

/** Reading rows one multi-row INSERT writes (see insertRows), and the columns of each. */
const INSERT_ROWS = 32;
const READING_COLUMNS = 8;
/** The last column of a reading row: its missed slots, an object in memory and JSON in the file. */
const MISSED_COLUMN = READING_COLUMNS - 1;

/**
 * The `missed` column of a row (records.ts, encodeMissed). The readings of one poll share one
 * object and one ts, so the text of the row before is used again when both match.
 */
class MissedColumn {
  private last: MissedSlots | null = null;
  private lastTs = 0;
  private lastText: string | null = null;

  of(row: Row): string | null {
    const m = row[MISSED_COLUMN] as MissedSlots | null;
    if (m === null) return null;
    const ts = row[1] as number;
    if (m !== this.last || ts !== this.lastTs) {
      this.last = m;
      this.lastTs = ts;
      this.lastText = encodeMissed(m, ts);
    }
    return this.lastText;
  }
}

/** The record count from `meta`; counted once (and stored) for a log written before it was kept. */
function countRows(db: SqliteDb): number {
  const kept = db.prepare(`SELECT value FROM meta WHERE key = 'row_count'`).pluck().get() as
    number | undefined;
  if (kept !== undefined) return kept;
  let n = 0;
  for (const t of ['readings', 'events', 'aggregates', 'blobs'])
    n += db.prepare(`SELECT count(*) FROM ${t}`).pluck().get() as number;
  db.prepare(`INSERT INTO meta (key, value) VALUES ('row_count', ?)`).run(n);
  return n;
}

const isWriteFailure = (e: unknown): e is LantianError =>
  e instanceof LantianError && e.code === 'STORE_WRITE_FAILED';

export class Log {
  private readonly db: SqliteDb;
  private readonly dict: PointDictionary;
  private readonly cursors = new Map<string, Cursor>();
  private readonly listeners = new Set<(lastSeq: number) => void>();
  private readonly devices = new Map<string, DeviceCounters>();
  /** The device `count` counted last and its counters, an entry of `devices` (never removed from it). */
  private countedDevice: string | undefined;
  private counted: DeviceCounters | undefined;
  private readonly retention: Retention;
  private readonly stmt;
  private readonly logger: Logger;
  private readonly pending: PendingReadings;
  /** The readings committed last, for followers at the head of the log (see recent.ts). */
  private readonly recent: RecentRows;
  private readonly retryMs: number;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly clock: Clock;
  private writeFailures = 0;
  /** Records in the log (one per seq still held), kept in `meta` so quota accounting is O(1). */
  private rows = 0;
  /** Records deleted inside the running transaction (by retention). */
  private deletedInWrite = 0;
  /** Why the log last refused a write, while queued readings wait ('' when writing works). */
  private pendingReason = '';
  /** Cursors whose last change could not be written; kept in memory and retried. */
  private readonly unsaved = new Set<Cursor>();
  private nextSeq: number;
  private closed = false;
  readonly path: string;
  readonly boot: number;
  private id: string;
  private readonly mark: SeqMark;
  /** The configured disk quota in bytes, if any. */
  readonly quotaBytes: number | undefined;

  constructor(options: LogOptions) {
    this.path = options.path;
    this.quotaBytes = options.quotaBytes;
    this.recent = new RecentRows(options.recentRows ?? RECENT_ROWS);
    const created = !existsSync(options.path);
    // The mark of a log that was here before: a new log starts above every seq it may have issued.
    const before = readMark(options.path);
    const startSeq = Math.max(options.startSeq ?? 1, created && before ? before.reserved + 1 : 1);
    this.db = openDatabase(options.path, {
      synchronous: options.synchronous ?? 'normal',
      integrityCheck: options.integrityCheck ?? 'quick',
      startSeq,
      ...(options.hardLimitBytes === undefined ? {} : { hardLimitBytes: options.hardLimitBytes }),
    });
    const db = this.db;
    this.stmt = {
      reading: db.prepare('INSERT INTO readings VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      readings: db.prepare(
        `INSERT INTO readings VALUES ${Array<string>(INSERT_ROWS).fill('(?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
      ),
      event: db.prepare('INSERT INTO events VALUES (?, ?, ?, ?)'),
      aggregate: db.prepare('INSERT INTO aggregates VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)'),
      blob: db.prepare(
        'INSERT INTO blobs (seq, ts, kind, content_type, bytes, detail) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      setMeta: db.prepare('UPDATE meta SET value = ? WHERE key = ?'),
      setRows: db.prepare(
        `INSERT INTO meta (key, value) VALUES ('row_count', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
      ),
      readReadings: db
        .prepare('SELECT * FROM readings WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?')
        .raw(),
      readEvents: db.prepare('SELECT * FROM events WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?').raw(),
      readAggregates: db
        .prepare('SELECT * FROM aggregates WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?')
        .raw(),
      readBlobs: db.prepare('SELECT * FROM blobs WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?').raw(),
      latestEvent: db.prepare('SELECT * FROM events WHERE kind = ? ORDER BY seq DESC LIMIT 1').raw(),
      latestBlob: db.prepare('SELECT * FROM blobs WHERE kind = ? ORDER BY seq DESC LIMIT 1').raw(),
      latestBlobOf: db
        .prepare(
          `SELECT * FROM blobs WHERE kind = ? AND json_extract(detail, '$.source') = ? ORDER BY seq DESC LIMIT 1`,
        )
        .raw(),
      recentReadings: db
        .prepare('SELECT seq, point_id FROM readings WHERE seq <= ? ORDER BY seq DESC LIMIT ?')
        .raw(),
    };
    this.logger = options.logger ?? silentLogger;
    this.clock = options.clock ?? systemClock;
    this.retryMs = options.retryMs ?? 1000;
    this.pending = new PendingReadings(options.pendingMaxReadings ?? 50_000);
    let mark: SeqMark | undefined;
    try {
      const meta = (key: string) =>
        (db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(key) as number | undefined) ?? 0;
      this.nextSeq = meta('next_seq');
      this.recent.reset(this.nextSeq - 1);
      this.id = String(db.prepare(`SELECT value FROM meta WHERE key = 'log_id'`).pluck().get());
      // Bumping the boot counter is the first write: it takes the exclusive lock for this process.
      const storedBoot = meta('boot');
      this.boot = Math.max(storedBoot, before?.boot ?? 0) + 1;
      this.stmt.setMeta.run(this.boot, 'boot');
      this.rows = countRows(db);
      this.dict = new PointDictionary(db);
      for (const uplink of db.prepare('SELECT uplink FROM cursors').pluck().all() as string[]) {
        this.cursors.set(uplink, this.newCursor(uplink));
      }
      this.mark = mark = new SeqMark(options.path, {
        logId: this.id,
        boot: this.boot,
        // Not lowered before checkMark has started the epoch: if this open fails (a full disk),
        // the next one must still find the file behind the mark.
        next: Math.max(before?.next ?? 0, this.nextSeq),
        // Never lower: whatever log the mark described, its seqs may be out there.
        reserved: Math.max(before?.reserved ?? 0, this.nextSeq - 1),
      });
      if (before) this.checkMark(before, storedBoot, created);
      this.retention = new Retention(this, db, options, {
        clock: this.clock,
        logger: this.logger,
      });
      this.retention.maintain();
    } catch (e) {
      db.close();
      mark?.close();
      if (isDiskFull(e)) throw diskFullError(this.path, e);
      throw e;
    }
  }

  /**
   * The epoch of the seqs: made when the file was created and again when the log had to skip
   * seqs it may already have issued (a lost WAL). A platform keys records by (logId, seq).
   */
  get logId(): string {
    return this.id;
  }

  /**
   * The SQLite file itself, for an uplink that keeps its own state beside its cursor (the MQTT
   * seal ledger, in tables of its own). Nothing outside the store touches the log's tables.
   */
  get database(): SqliteDb {
    this.open();
    return this.db;
  }

  /** Highest sequence number ever given out (0 when the log is new). */
  get lastSeq(): number {
    return this.nextSeq - 1;
  }

  /**
   * Appends readings in one transaction and returns their sequence numbers (consecutive,
   * in the order given). Throws STORE_RECORD_INVALID before writing anything if one is bad.
   */
  append(drafts: readonly ReadingDraft[]): SeqSpan {
    this.open();
    this.check(drafts);
    return this.appendChecked(drafts);
  }

  /** `append` of a batch `check` has passed (accept and its retries check once, not per try). */
  private appendChecked(drafts: readonly ReadingDraft[]): SeqSpan {
    if (drafts.length === 0) return { first: this.nextSeq, last: this.nextSeq - 1 };
    this.retention.makeRoom(drafts.length);
    const rows: Row[] = [];
    const span = this.write(
      () => {
        for (const r of drafts) {
          rows.push([
            this.nextSeq++,
            r.ts,
            this.dict.id(r.device, r.point),
            r.value,
            r.flag,
            encodeQuality(r.quality),
            encodeRaw(r.raw),
            // The object itself: the recent rows keep it in columns; insertRows writes its JSON.
            r.missed ?? null,
          ]);
        }
        this.insertRows(rows);
      },
      undefined,
      rows,
    );
    for (const r of drafts) this.count(r.device, r.flag, r.ts);
    this.afterAppend();
    return span;
  }

  /**
   * Inserts reading rows, INSERT_ROWS to a statement while that many are left: the cost of a
   * statement (binding, stepping) is then paid once for 32 rows instead of for each.
   */
  private insertRows(rows: readonly Row[]): void {
    const missed = new MissedColumn();
    let i = 0;
    if (rows.length >= INSERT_ROWS) {
      const flat: unknown[] = new Array(INSERT_ROWS * READING_COLUMNS);
      for (; i + INSERT_ROWS <= rows.length; i += INSERT_ROWS) {
        let k = 0;
        for (let j = i; j < i + INSERT_ROWS; j++) {
          const row = rows[j]!;
          for (let c = 0; c < MISSED_COLUMN; c++) flat[k++] = row[c];
          flat[k++] = missed.of(row);
        }
        this.stmt.readings.run(flat);
      }
    }
    for (; i < rows.length; i++) {
      const row = rows[i]!;
      const text = missed.of(row);
      this.stmt.reading.run(text === null ? row : [...row.slice(0, MISSED_COLUMN), text]);
    }
  }

  /** Throws STORE_RECORD_INVALID, naming the record, if a reading of the batch is bad. */
  check(drafts: readonly ReadingDraft[]): void {
    drafts.forEach(checkReading);
  }

  /**
   * The acquisition side's way in: commits like `append()` when the log can write; when it
   * cannot (STORE_WRITE_FAILED: disk full, I/O error) the batch waits in a bounded in-memory
   * queue, in order, and is retried every `retryMs` (see docs/store.md, "A full disk").
   * Returns the seqs, or undefined when the batch was queued. Never throws for a failed write;
   * throws STORE_RECORD_INVALID for a bad batch, which is never queued.
   */
  accept(drafts: readonly ReadingDraft[]): SeqSpan | undefined {
    this.open();
    this.check(drafts);
    if (drafts.length === 0) return { first: this.nextSeq, last: this.nextSeq - 1 };
    if (this.pending.empty) {
      try {
        return this.appendChecked(drafts);
      } catch (e) {
        if (!isWriteFailure(e)) throw e;
        this.writeFailed(e);
      }
    }
    this.pending.push(drafts, this.pendingReason);
    this.scheduleRetry();
    return undefined;
  }

  /**
   * Writes what waits (queued readings, then an `unlogged` event for what overflowed, then
   * unsaved cursors); returns true when nothing is left. Runs by itself every `retryMs`.
   */
  retryPending(): boolean {
    this.open();
    try {
      for (let b = this.pending.peek(); b; b = this.pending.peek()) {
        this.appendChecked(b);
        this.pending.shift();
      }
      const lost = this.pending.unlogged();
      if (lost) {
        this.recordUnlogged(lost);
        this.pending.clearUnlogged();
      }
    } catch (e) {
      if (!isWriteFailure(e)) throw e;
      this.writeFailed(e);
      return false;
    }
    for (const c of [...this.unsaved]) {
      c.persist();
      if (!c.isSaved) return false;
      this.unsaved.delete(c);
    }
    if (this.pendingReason !== '') {
      this.logger.info({ file: this.path }, 'the log accepts writes again; queued readings committed');
      this.pendingReason = '';
    }
    return true;
  }

  appendEvent(event: EventDraft): number {
    this.open();
    checkTs(event.ts, 0);
    const payload = JSON.stringify(event.payload ?? null);
    const span = this.write(() => {
      this.stmt.event.run(this.nextSeq++, event.ts, event.kind, payload);
    });
    this.afterAppend();
    return span.first;
  }

  appendAggregates(rows: readonly AggregateDraft[]): SeqSpan {
    this.open();
    rows.forEach(checkAggregate);
    this.retention.makeRoom(rows.length);
    const span = this.write(() => {
      for (const a of rows) {
        const pid = this.dict.id(a.device, a.point);
        const detail = encodeAggregateDetail(a);
        this.stmt.aggregate.run(
          this.nextSeq++,
          pid,
          a.period,
          a.start,
          a.min,
          a.avg,
          a.max,
          a.count,
          a.flag,
          detail,
        );
      }
    });
    this.afterAppend();
    return span;
  }

  appendBlob(blob: BlobDraft): number {
    this.open();
    checkBlob(blob, 0);
    const bytes = Buffer.from(blob.bytes);
    // A picture is large: the quota makes room for it by its size, not by a record count.
    this.retention.makeRoomBytes(bytes.length);
    const span = this.write(() => {
      this.stmt.blob.run(this.nextSeq++, blob.ts, blob.kind, blob.contentType, bytes, encodeBlobDetail(blob));
    });
    this.afterAppend();
    return span.first;
  }

  /** The newest blob of a kind (of one source, e.g. a camera, when given), if any. */
  latestBlob(kind: string, source?: string): (LogRecord & { type: 'blob' }) | undefined {
    this.open();
    const row = (
      source === undefined ? this.stmt.latestBlob.get(kind) : this.stmt.latestBlobOf.get(kind, source)
    ) as Row | undefined;
    return row ? (this.blob(row) as LogRecord & { type: 'blob' }) : undefined;
  }

  /**
   * Seqs of the newest reading of each point of `device` (only `point`, when given), looking back
   * over the newest `lookBack` records: what a snapshot taken now stands beside.
   */
  latestReadingSeqs(device: string, point?: string, lookBack = 10_000): number[] {
    this.open();
    const wanted = new Set(
      this.dict
        .idsOf(device)
        .filter((x) => point === undefined || x.point === point)
        .map((x) => x.id),
    );
    const found = new Map<number, number>();
    if (wanted.size === 0) return [];
    for (const [seq, pid] of this.stmt.recentReadings.iterate(this.lastSeq, lookBack) as Iterable<
      [number, number]
    >) {
      if (wanted.has(pid) && !found.has(pid)) found.set(pid, seq);
      if (found.size === wanted.size) break;
    }
    return [...found.values()].sort((a, b) => a - b);
  }

  /** The newest event of a kind (a setting such as the alert level lives in the log), if any. */
  latestEvent(kind: string): (LogRecord & { type: 'event' }) | undefined {
    this.open();
    const row = this.stmt.latestEvent.get(kind) as Row | undefined;
    return row ? (this.event(row) as LogRecord & { type: 'event' }) : undefined;
  }

  /** Records with `after < seq <= until`, in sequence order, at most `limit` of them. */
  read(after: number, limit: number, until = Number.MAX_SAFE_INTEGER): LogRecord[] {
    return this.readRecords(after, limit, until, true);
  }

  /**
   * `read` for a reader of values (processing follows the log with it): its readings come
   * without their raw words and quality reasons, which it would otherwise have had made for
   * every reading and dropped.
   */
  readValues(after: number, limit: number): LogRecord[] {
    return this.readRecords(after, limit, Number.MAX_SAFE_INTEGER, false);
  }

  private readRecords(after: number, limit: number, until: number, whole: boolean): LogRecord[] {
    this.open();
    const held = this.recent.slice(after, limit, until, (r) => this.reading(r, whole), whole);
    if (held) return held;
    const s = this.stmt;
    const readings = s.readReadings.all(after, until, limit) as Row[];
    const others = [
      ...(s.readEvents.all(after, until, limit) as Row[]).map((r) => this.event(r)),
      ...(s.readAggregates.all(after, until, limit) as Row[]).map((r) => this.aggregate(r)),
      ...(s.readBlobs.all(after, until, limit) as Row[]).map((r) => this.blob(r)),
    ];
    const out: LogRecord[] = readings.map((r) => this.reading(r, whole));
    if (others.length === 0) return out;
    return [...out, ...others].sort((a, b) => a.seq - b.seq).slice(0, limit);
  }

  /** Like `read`, over the events alone (rebuilding state from them need not walk the readings). */
  readEvents(after: number, limit: number, until = Number.MAX_SAFE_INTEGER): LogRecord[] {
    this.open();
    return (this.stmt.readEvents.all(after, until, limit) as Row[]).map((r) => this.event(r));
  }

  /** The cursor of one uplink, created at 0 (deliver everything retained) on first use. */
  cursor(uplink: string): Cursor {
    this.open();
    let c = this.cursors.get(uplink);
    if (!c) {
      c = this.newCursor(uplink);
      this.cursors.set(uplink, c);
    }
    return c;
  }

  allCursors(): Cursor[] {
    return [...this.cursors.values()];
  }

  /** Called after every commit with the new last seq; returns an unsubscribe function. */
  onAppend(listener: (lastSeq: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  deviceCounters(): ReadonlyMap<string, DeviceCounters> {
    return this.devices;
  }

  stats(): LogStats {
    this.open();
    const meta = (key: string) =>
      (this.db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(key) as number | undefined) ?? 0;
    const pending = this.pending.status();
    return {
      lastSeq: this.lastSeq,
      bytes: this.retention.usedBytes(),
      gapEvents: meta('gap_events'),
      droppedRecords: meta('dropped_records'),
      boot: this.boot,
      pendingReadings: pending.pendingReadings,
      unloggedReadings: meta('unlogged_readings') + pending.overflowReadings,
      writeFailures: this.writeFailures,
    };
  }

  /** Runs age retention and the quota check now (they also run by themselves after appends). */
  maintain(): void {
    this.open();
    this.retention.maintain(true);
  }

  /**
   * Closes the file after a last attempt to write what waits; what still cannot be written is
   * logged as an error with its exact extent (it never had a seq, so no uplink expects it).
   */
  close(): void {
    if (this.closed) return;
    clearTimeout(this.retryTimer);
    if (!this.pending.empty || this.unsaved.size > 0) {
      try {
        this.retryPending();
      } catch (e) {
        this.logger.error({ file: this.path, err: e }, 'writing queued readings at close failed');
      }
      if (!this.pending.empty) {
        this.logger.error(
          { file: this.path, ...this.pending.status(), unlogged: this.pending.unlogged() },
          'the log was closed with readings it could not write: they are lost',
        );
      }
    }
    this.closed = true;
    this.listeners.clear();
    this.db.close();
    try {
      this.mark.advance(this.nextSeq, true);
    } finally {
      this.mark.close();
    }
  }

  /**
   * Runs `body` in one immediate transaction that also stores the next sequence number;
   * rolls the in-memory counters back if anything fails (and calls `onRollback` for state the
   * caller changed). Used by retention for gap events.
   */
  write(body: () => void, onRollback?: () => void, readings?: readonly Row[]): SeqSpan {
    const first = this.nextSeq;
    this.deletedInWrite = 0;
    try {
      this.db
        .transaction(() => {
          body();
          // Every seq given out is one record; retention reports what it deleted.
          this.stmt.setRows.run(this.rows + (this.nextSeq - first) - this.deletedInWrite);
          // Reserved on disk before the seqs are committed: the mark is never below them.
          this.mark.reserve(this.nextSeq - 1);
          this.stmt.setMeta.run(this.nextSeq, 'next_seq');
        })
        .immediate();
    } catch (e) {
      this.nextSeq = first;
      this.dict.rollback();
      onRollback?.();
      if (e instanceof LantianError) throw e;
      throw new LantianError(
        'STORE_WRITE_FAILED',
        `${this.path}: writing to the log failed (${(e as Error).message})`,
        {
          cause: e,
          context: { file: this.path, code: (e as { code?: unknown }).code },
        },
      );
    }
    this.dict.commit();
    // What followers read next: these rows when the write added readings only, else the file.
    if (readings) this.recent.add(readings);
    else this.recent.reset(this.nextSeq - 1);
    this.rows += this.nextSeq - first - this.deletedInWrite;
    this.advanceMark();
    return { first, last: this.nextSeq - 1 };
  }

  /** Records held now (all four kinds); O(1). */
  get rowCount(): number {
    return this.rows;
  }

  /** Retention deleted `n` records inside a transaction opened by `write()`. */
  countDeleted(n: number): void {
    this.deletedInWrite += n;
  }

  /** Appends a gap event inside a transaction opened by `write()`; returns its seq. */
  insertEventInTransaction(event: EventDraft): number {
    const seq = this.nextSeq++;
    this.stmt.event.run(seq, event.ts, event.kind, JSON.stringify(event.payload));
    return seq;
  }

  /**
   * The batch is committed: nothing here may throw back to the caller, who would take the
   * batch for not written and hand it over again.
   */
  private afterAppend(): void {
    try {
      this.retention.maintain();
    } catch (e) {
      this.logger.error(
        { file: this.path, err: e },
        'retention failed after a commit; retried at the next one',
      );
    }
    const last = this.lastSeq;
    for (const l of this.listeners) {
      try {
        l(last);
      } catch (e) {
        this.logger.error({ file: this.path, err: e }, 'a log listener threw');
      }
    }
  }

  private advanceMark(): void {
    try {
      this.mark.advance(this.nextSeq);
    } catch (e) {
      // Only the lost-WAL check loses precision; `reserved` still bounds every seq.
      this.logger.warn({ file: this.path, err: e }, 'cannot update the high-water mark');
    }
  }

  /**
   * Compares the log with its mark at open. Behind the mark (fewer seqs than it recorded, or an
   * older boot): committed transactions were lost, so a new epoch starts above every seq that
   * may have been issued. A new file beside the mark of another log: that log was replaced.
   */
  private checkMark(before: MarkState, storedBoot: number, created: boolean): void {
    if (created) {
      if (before.logId === this.id) return;
      this.recordEpoch('log_replaced', this.nextSeq, this.nextSeq - 1, {
        previousLogId: before.logId,
        previousReserved: before.reserved,
        firstSeq: this.nextSeq,
      });
      return;
    }
    if (before.logId !== this.id) {
      this.logger.warn(
        { file: this.path, markLogId: before.logId, logId: this.id },
        'the high-water mark belonged to another log; seqs continue above both',
      );
      if (this.nextSeq <= before.reserved)
        this.recordEpoch('log_rewound', this.nextSeq, before.reserved, {
          issuedThrough: before.next - 1,
          previousLogId: this.id,
          reason: 'mark_of_another_log',
        });
      return;
    }
    if (this.nextSeq >= before.next && storedBoot >= before.boot) return;
    this.recordEpoch('log_rewound', this.nextSeq, before.reserved, {
      issuedThrough: before.next - 1,
      previousLogId: this.id,
      reason: this.nextSeq < before.next ? 'behind_mark' : 'older_boot',
    });
  }

  /**
   * Skips `from..to` (seqs the log may have issued and no longer holds) in one transaction: a
   * new `log_id` unless the file is new, the range done in every cursor, and an event of `kind`
   * that names it, the old and the new id.
   */
  private recordEpoch(kind: string, from: number, to: number, detail: Record<string, unknown>): void {
    const logId = kind === 'log_replaced' ? this.id : randomBytes(8).toString('hex');
    this.nextSeq = Math.max(this.nextSeq, to + 1);
    const range = kind === 'log_replaced' ? {} : { from, to, count: Math.max(0, to - from + 1) };
    const payload = { ...range, ...detail, logId, boot: this.boot };
    this.write(() => {
      this.stmt.setMeta.run(logId, 'log_id');
      for (const c of this.cursors.values()) {
        if (to >= from) c.markDoneInMemory(from, to);
        c.persistOrThrow();
      }
      this.stmt.event.run(this.nextSeq++, this.clock.now(), kind, JSON.stringify(payload));
      this.db.prepare(`UPDATE meta SET value = value + 1 WHERE key = 'gap_events'`).run();
    });
    this.id = logId;
    this.mark.adopt(logId);
    this.logger.error(
      { file: this.path, ...payload },
      kind === 'log_replaced'
        ? 'a new log replaces the one this high-water mark belonged to; seqs continue above it'
        : 'the log went back in time (lost WAL or restored file): new epoch above every seq it may have issued',
    );
  }

  private newCursor(uplink: string): Cursor {
    return new Cursor(uplink, this.db, (cursor, e) => {
      if (!this.unsaved.has(cursor))
        this.logger.warn(
          { file: this.path, uplink, err: e },
          'cannot write the cursor; it is kept in memory and written when the log can write again',
        );
      this.unsaved.add(cursor);
      this.writeFailures++;
      this.scheduleRetry();
    });
  }

  private writeFailed(e: unknown): void {
    this.writeFailures++;
    if (this.pendingReason === '') {
      this.pendingReason = `${(e as LantianError).code} ${sqliteCode((e as LantianError).context)}`.trim();
      this.logger.error(
        { file: this.path, err: e },
        'the log cannot write: readings are queued in memory and retried',
      );
    }
  }

  private scheduleRetry(): void {
    if (this.retryTimer !== undefined || this.closed) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.closed) return;
      let done = false;
      try {
        done = this.retryPending();
      } catch (e) {
        this.logger.error({ file: this.path, err: e }, 'retrying queued writes failed');
      }
      if (!done) this.scheduleRetry();
    }, this.retryMs);
    this.retryTimer.unref();
  }

  /** The `unlogged` event and its counter, in one transaction. */
  private recordUnlogged(lost: UnloggedPayload): void {
    const payload = JSON.stringify(lost);
    this.write(() => {
      this.stmt.event.run(this.nextSeq++, this.clock.now(), 'unlogged', payload);
      this.db
        .prepare(
          `INSERT INTO meta (key, value) VALUES ('unlogged_readings', ?)
           ON CONFLICT (key) DO UPDATE SET value = value + excluded.value`,
        )
        .run(lost.count);
    });
    this.logger.error({ file: this.path, ...lost }, 'readings lost while the log could not write');
    this.afterAppend();
  }

  private count(device: string, flag: Flag, ts: number): void {
    // A batch holds each poll's readings in a row: the device counted last is usually the next.
    let c = device === this.countedDevice ? this.counted : this.devices.get(device);
    if (!c) this.devices.set(device, (c = { readings: 0, flagged: 0, lastTs: 0 }));
    this.countedDevice = device;
    this.counted = c;
    c.readings++;
    if (flag !== 'N') c.flagged++;
    if (ts > c.lastTs) c.lastTs = ts;
  }

  private open(): void {
    if (this.closed)
      throw new LantianError('STORE_CLOSED', `${this.path}: the log is closed`, {
        context: { file: this.path },
      });
  }

  private reading(r: Row, whole = true): LogRecord {
    const [seq, ts, pid, value, flag, quality, raw, missed] = r as [
      number,
      number,
      number,
      number | string | null,
      Flag,
      string | null,
      Buffer | null,
      string | MissedSlots | null,
    ];
    const { device, point } = this.dict.ref(pid);
    const rec: LogRecord = { type: 'reading', seq, ts, device, point, value, flag };
    if (whole) {
      if (quality !== null) rec.quality = decodeQuality(quality);
      if (raw !== null) rec.raw = decodeRaw(raw);
    }
    // Text from the file; from the recent rows an object made for this read.
    if (missed !== null) rec.missed = typeof missed === 'string' ? decodeMissed(missed, ts, seq) : missed;
    return rec;
  }

  private event(r: Row): LogRecord {
    const [seq, ts, kind, payload] = r as [number, number, string, string];
    return { type: 'event', seq, ts, kind, payload: JSON.parse(payload) as unknown };
  }

  private aggregate(r: Row): LogRecord {
    const [seq, pid, period, start, min, avg, max, count, flag, detail] = r as [
      number,
      number,
      AggregateDraft['period'],
      number,
      number | null,
      number | null,
      number | null,
      number,
      Flag,
      string | null,
    ];
    const rec = { seq, ...this.dict.ref(pid), period, start, min, avg, max, count, flag };
    return { type: 'aggregate', ...rec, ...(detail === null ? {} : (JSON.parse(detail) as object)) };
  }

  private blob(r: Row): LogRecord {
    const [seq, ts, kind, contentType, bytes, detail] = r as [
      number,
      number,
      string,
      string,
      Buffer,
      string | null,
    ];
    const rec: LogRecord = { type: 'blob', seq, ts, kind, contentType, bytes };
    return detail === null
      ? rec
      : { ...rec, ...(JSON.parse(detail) as Pick<BlobDraft, 'source' | 'trigger'>) };
  }
}

export function openLog(options: LogOptions): Log {
  return new Log(options);
}
