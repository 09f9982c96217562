/**
 * The durable log: readings, aggregates, events and blobs appended under one gateway-wide
 * sequence number. Every append is one SQLite transaction; when `append*()` returns, the batch
 * is committed (see docs/store.md for what `synchronous` promises). Readers (the uplinks) walk
 * it in sequence order from their own cursors.
 */
import { systemClock, type Clock } from '../core/clock.js';
import { LantianError } from '../core/errors.js';
import type { Flag } from '../core/flags.js';
import { silentLogger, type Logger } from '../core/logger.js';
import type { ReadingDraft } from '../core/reading.js';
import { Cursor } from './cursors.js';
import { PointDictionary } from './dictionary.js';
import {
  checkAggregate,
  checkReading,
  checkTs,
  decodeQuality,
  decodeRaw,
  encodeQuality,
  encodeRaw,
  encodeAggregateDetail,
  type AggregateDraft,
  type BlobDraft,
  type EventDraft,
  type LogRecord,
} from './records.js';
import { Retention, type RetentionOptions } from './retention.js';
import { openDatabase, type SqliteDb } from './schema.js';

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

type Row = unknown[];

export class Log {
  private readonly db: SqliteDb;
  private readonly dict: PointDictionary;
  private readonly cursors = new Map<string, Cursor>();
  private readonly listeners = new Set<(lastSeq: number) => void>();
  private readonly devices = new Map<string, DeviceCounters>();
  private readonly retention: Retention;
  private readonly stmt;
  private nextSeq: number;
  private closed = false;
  readonly path: string;
  readonly boot: number;
  /** Random id made when the file was created: a platform sees a replaced log by its change. */
  readonly logId: string;
  /** The configured disk quota in bytes, if any. */
  readonly quotaBytes: number | undefined;

  constructor(options: LogOptions) {
    this.path = options.path;
    this.quotaBytes = options.quotaBytes;
    this.db = openDatabase(options.path, {
      synchronous: options.synchronous ?? 'normal',
      integrityCheck: options.integrityCheck ?? 'quick',
      startSeq: options.startSeq ?? 1,
      ...(options.hardLimitBytes === undefined ? {} : { hardLimitBytes: options.hardLimitBytes }),
    });
    const db = this.db;
    this.stmt = {
      reading: db.prepare('INSERT INTO readings VALUES (?, ?, ?, ?, ?, ?, ?)'),
      event: db.prepare('INSERT INTO events VALUES (?, ?, ?, ?)'),
      aggregate: db.prepare('INSERT INTO aggregates VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)'),
      blob: db.prepare('INSERT INTO blobs VALUES (?, ?, ?, ?, ?)'),
      setMeta: db.prepare('UPDATE meta SET value = ? WHERE key = ?'),
      readReadings: db
        .prepare('SELECT * FROM readings WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?')
        .raw(),
      readEvents: db.prepare('SELECT * FROM events WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?').raw(),
      readAggregates: db
        .prepare('SELECT * FROM aggregates WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?')
        .raw(),
      readBlobs: db.prepare('SELECT * FROM blobs WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?').raw(),
    };
    const meta = (key: string) =>
      (db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(key) as number | undefined) ?? 0;
    this.nextSeq = meta('next_seq');
    this.logId = String(db.prepare(`SELECT value FROM meta WHERE key = 'log_id'`).pluck().get());
    // Bumping the boot counter is the first write: it takes the exclusive lock for this process.
    this.boot = meta('boot') + 1;
    this.stmt.setMeta.run(this.boot, 'boot');
    this.dict = new PointDictionary(db);
    for (const uplink of db.prepare('SELECT uplink FROM cursors').pluck().all() as string[]) {
      this.cursors.set(uplink, new Cursor(uplink, db));
    }
    this.retention = new Retention(this, db, options, {
      clock: options.clock ?? systemClock,
      logger: options.logger ?? silentLogger,
    });
    this.retention.maintain();
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
    drafts.forEach(checkReading);
    if (drafts.length === 0) return { first: this.nextSeq, last: this.nextSeq - 1 };
    const span = this.write(() => {
      const ins = this.stmt.reading;
      for (const r of drafts) {
        const pid = this.dict.id(r.device, r.point);
        ins.run(this.nextSeq++, r.ts, pid, r.value, r.flag, encodeQuality(r.quality), encodeRaw(r.raw));
      }
    });
    for (const r of drafts) this.count(r.device, r.flag, r.ts);
    this.afterAppend();
    return span;
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
    checkTs(blob.ts, 0);
    const span = this.write(() => {
      this.stmt.blob.run(this.nextSeq++, blob.ts, blob.kind, blob.contentType, Buffer.from(blob.bytes));
    });
    this.afterAppend();
    return span.first;
  }

  /** Records with `after < seq <= until`, in sequence order, at most `limit` of them. */
  read(after: number, limit: number, until = Number.MAX_SAFE_INTEGER): LogRecord[] {
    this.open();
    const s = this.stmt;
    const readings = s.readReadings.all(after, until, limit) as Row[];
    const others = [
      ...(s.readEvents.all(after, until, limit) as Row[]).map((r) => this.event(r)),
      ...(s.readAggregates.all(after, until, limit) as Row[]).map((r) => this.aggregate(r)),
      ...(s.readBlobs.all(after, until, limit) as Row[]).map((r) => this.blob(r)),
    ];
    const out: LogRecord[] = readings.map((r) => this.reading(r));
    if (others.length === 0) return out;
    return [...out, ...others].sort((a, b) => a.seq - b.seq).slice(0, limit);
  }

  /** The cursor of one uplink, created at 0 (deliver everything retained) on first use. */
  cursor(uplink: string): Cursor {
    this.open();
    let c = this.cursors.get(uplink);
    if (!c) {
      c = new Cursor(uplink, this.db);
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

  stats(): { lastSeq: number; bytes: number; gapEvents: number; droppedRecords: number; boot: number } {
    this.open();
    const meta = (key: string) =>
      this.db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(key) as number;
    return {
      lastSeq: this.lastSeq,
      bytes: this.retention.usedBytes(),
      gapEvents: meta('gap_events'),
      droppedRecords: meta('dropped_records'),
      boot: this.boot,
    };
  }

  /** Runs age retention and the quota check now (they also run by themselves after appends). */
  maintain(): void {
    this.open();
    this.retention.maintain(true);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    this.db.close();
  }

  /**
   * Runs `body` in one immediate transaction that also stores the next sequence number;
   * rolls the in-memory counters back if anything fails. Used by retention for gap events.
   */
  write(body: () => void): SeqSpan {
    const first = this.nextSeq;
    try {
      this.db
        .transaction(() => {
          body();
          this.stmt.setMeta.run(this.nextSeq, 'next_seq');
        })
        .immediate();
    } catch (e) {
      this.nextSeq = first;
      this.dict.rollback();
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
    return { first, last: this.nextSeq - 1 };
  }

  /** Appends a gap event inside a transaction opened by `write()`; returns its seq. */
  insertEventInTransaction(event: EventDraft): number {
    const seq = this.nextSeq++;
    this.stmt.event.run(seq, event.ts, event.kind, JSON.stringify(event.payload));
    return seq;
  }

  private afterAppend(): void {
    this.retention.maintain();
    const last = this.lastSeq;
    for (const l of this.listeners) l(last);
  }

  private count(device: string, flag: Flag, ts: number): void {
    let c = this.devices.get(device);
    if (!c) this.devices.set(device, (c = { readings: 0, flagged: 0, lastTs: 0 }));
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

  private reading(r: Row): LogRecord {
    const [seq, ts, pid, value, flag, quality, raw] = r as [
      number,
      number,
      number,
      number | string | null,
      Flag,
      string | null,
      Buffer | null,
    ];
    const { device, point } = this.dict.ref(pid);
    const rec: LogRecord = { type: 'reading', seq, ts, device, point, value, flag };
    if (quality !== null) rec.quality = decodeQuality(quality);
    if (raw !== null) rec.raw = decodeRaw(raw);
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
    const [seq, ts, kind, contentType, bytes] = r as [number, number, string, string, Buffer];
    return { type: 'blob', seq, ts, kind, contentType, bytes };
  }
}

export function openLog(options: LogOptions): Log {
  return new Log(options);
}
