/**
 * Recovering damaged logs in-process (the end-to-end test runs the CLI after a SIGKILL): what is
 * salvaged, exactly as written; what is named unrecoverable; where the new log starts; and what
 * is moved aside, untouched.
 */
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../gateway/src/core/clock.js';
import { openLog, type LogRecord } from '../../../gateway/src/store/index.js';
import { markPath, readMark } from '../../../gateway/src/store/mark.js';
import { recoverLog } from '../../../gateway/src/store/recover.js';
import { storedReading, syntheticAggregate, syntheticBatch } from '../../helpers/store-fixtures.js';
import { useTempLog } from '../../helpers/temp-log.js';

const temp = useTempLog();
let path: string;
beforeEach(() => {
  path = temp.path();
});

const digest = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const clock = () => new ManualClock(Date.UTC(2026, 4, 1, 12, 30, 15, 250));
/** Readings in the damaged logs: enough for the table to span dozens of pages. */
const N = 6000;
const STAMP = '2026-05-01T12-30-15-250Z';

/**
 * A closed log of `n` readings (seq 1..n), then an event, an aggregate and a blob, with the
 * `mqtt` cursor at `delivered` and the `hj212` one at a third of it; returns its log id.
 */
function makeLog(n: number, delivered: number): string {
  const log = openLog({ path });
  for (let i = 0; i < n; i += 1000) log.append(syntheticBatch(i, Math.min(1000, n - i)));
  log.appendEvent({ ts: 1, kind: 'alarm', payload: { n } });
  log.appendAggregates([syntheticAggregate(1)]);
  log.appendBlob({ ts: 2, kind: 'snapshot', contentType: 'image/png', bytes: new Uint8Array([1, 2, 3]) });
  if (delivered > 0) {
    log.cursor('mqtt').markDone(1, delivered);
    log.cursor('hj212').markDone(1, Math.floor(delivered / 3));
  }
  const id = log.logId;
  log.close();
  return id;
}

interface SalvagedReading {
  seq: number;
  ts: number;
  device: string;
  point: string;
  value: number;
  flag: string;
  quality: string | null;
  raw: Buffer | null;
}

function salvagedReadings(file: string): SalvagedReading[] {
  const db = new Database(file, { readonly: true });
  try {
    return db
      .prepare(
        'SELECT seq, ts, device, point, value, flag, quality, raw FROM readings JOIN points ON points.id = point_id ORDER BY seq',
      )
      .all() as SalvagedReading[];
  } finally {
    db.close();
  }
}

/** Every salvaged reading is the one written at its seq, register words and reasons included. */
const expectAsWritten = (rows: SalvagedReading[]) =>
  expect(rows).toEqual(rows.map((r) => storedReading(r.seq)));

/**
 * The reading seqs of `file` that SQLite can find one by one with a range read from just below
 * each (how salvage walks a table): an oracle independent of salvage's stride.
 */
function readableSeqs(file: string, n: number): number[] {
  const db = new Database(file, { readonly: true });
  try {
    const one = db.prepare('SELECT seq FROM readings WHERE seq > ? ORDER BY seq LIMIT 1').pluck();
    const out: number[] = [];
    for (let seq = 1; seq <= n; seq++) {
      try {
        if (one.get(seq - 1) === seq) out.push(seq);
      } catch {
        // On a damaged page.
      }
    }
    return out;
  } finally {
    db.close();
  }
}

const eventsOf = (records: LogRecord[]) =>
  records.filter((r): r is Extract<LogRecord, { type: 'event' }> => r.type === 'event');

describe('recovering a truncated log', () => {
  it('salvages what is left as written, names the rest, and starts a new log above both', () => {
    const oldId = makeLog(N, 150);
    truncateSync(path, Math.floor(statSync(path).size / 2));
    const damaged = digest(path);
    const reserved = readMark(path)!.reserved;
    expect(reserved).toBeGreaterThan(N + 3);
    const report = recoverLog(path, { clock: clock() });

    expect(report.file).toBe(path);
    expect(report.previousLogId).toBe(oldId);
    expect(report.salvageFile).toBe(`${path}.salvaged-${STAMP}.db`);
    // A closed log has no -wal or -shm, and the read-only look at it must not leave one behind.
    expect(report.moved).toEqual([[path, `${path}.damaged-${STAMP}`]]);
    expect(digest(`${path}.damaged-${STAMP}`)).toBe(damaged);
    expect('unreadable' in report).toBe(false);
    // The mark and the meta row agree: 20 003 seqs were issued; the mark reserved more.
    expect(report.issuedThrough).toBe(N + 3);
    expect(report.firstSeq).toBe(reserved + 1);

    const rows = salvagedReadings(report.salvageFile!);
    expect(rows.length).toBeGreaterThan(1000);
    expect(rows.length).toBeLessThan(N);
    expect(report.salvaged.readings).toBe(rows.length);
    expect(report.salvaged.points).toBeGreaterThan(0);
    expectAsWritten(rows);
    // What every uplink has (through 50) needs no salvage; every other seq is salvaged or named.
    const salvagedSeqs = new Set(rows.map((r) => r.seq));
    const named = report.unrecoverable.flatMap(([a, b]) =>
      Array.from({ length: b - a + 1 }, (_, i) => a + i),
    );
    expect(named.filter((seq) => seq <= 50 || salvagedSeqs.has(seq))).toEqual([]);
    const salvagedAbove = rows.filter((r) => r.seq > 50).length;
    expect(report.unrecoverableCount).toBe(report.unrecoverable.reduce((n, [a, b]) => n + b - a + 1, 0));
    const others =
      (report.salvaged.events ?? 0) + (report.salvaged.aggregates ?? 0) + (report.salvaged.blobs ?? 0);
    expect(report.unrecoverableCount + salvagedAbove + others).toBe(N + 3 - 50);

    const db = new Database(report.salvageFile!, { readonly: true });
    try {
      const meta = db.prepare('SELECT key, value FROM meta').raw().all() as [string, unknown][];
      expect(Object.fromEntries(meta)).toMatchObject({ log_id: oldId, salvaged: 1 });
      expect(db.prepare('SELECT uplink, prefix FROM cursors ORDER BY uplink').raw().all()).toEqual([
        ['hj212', 50],
        ['mqtt', 150],
      ]);
    } finally {
      db.close();
    }

    const log = openLog({ path });
    try {
      expect(log.logId).toBe(report.logId);
      expect(log.logId).not.toBe(oldId);
      const events = eventsOf(log.read(0, 100));
      expect(events.map((e) => [e.kind, e.seq])).toEqual([
        ['log_replaced', reserved + 1],
        ['log_recovered', report.eventSeq],
      ]);
      expect(events[1]!.payload).toMatchObject({
        previousLogId: oldId,
        logId: report.logId,
        firstSeq: reserved + 1,
        issuedThrough: N + 3,
        damagedFile: `${path}.damaged-${STAMP}`,
        salvageFile: report.salvageFile,
        salvaged: report.salvaged,
        deliveredThrough: 50,
        unrecoverable: report.unrecoverable,
        unrecoverableCount: report.unrecoverableCount,
      });
    } finally {
      log.close();
    }
  });

  it('reads past damaged pages in the middle of a table', () => {
    makeLog(N, 0);
    const bytes = readFileSync(path);
    const damagedCopy = `${path}.copy`;
    const middle = Math.floor(bytes.length / 4096 / 2);
    bytes.fill(0xa5, middle * 4096 + 100, (middle + 2) * 4096);
    writeFileSync(path, bytes);
    writeFileSync(damagedCopy, bytes);
    const report = recoverLog(path, { clock: clock() });
    const rows = salvagedReadings(report.salvageFile!);
    expectAsWritten(rows);
    // Every reading a range read can still reach is salvaged: none is skipped past the damage.
    expect(rows.map((r) => r.seq)).toEqual(readableSeqs(damagedCopy, N));
    // Rows on both sides of the damage, and the records after the readings, are salvaged.
    expect(rows[0]!.seq).toBe(1);
    expect(rows.at(-1)!.seq).toBe(N);
    expect(rows.length).toBeLessThan(N);
    expect(report.salvaged).toMatchObject({ events: 1, aggregates: 1, blobs: 1, cursors: 0 });
    expect(report.unrecoverableCount).toBe(N - rows.length);
    expect(report.unrecoverable.length).toBeGreaterThan(0);
  });
});

describe('recovering what is barely there', () => {
  it('recovers from the mark alone when the main file is gone and only its WAL is left', () => {
    const oldId = makeLog(100, 0);
    writeFileSync(`${path}-wal`, Buffer.alloc(4096, 7));
    rmSync(path);
    const report = recoverLog(path, { clock: clock() });
    expect(report).toMatchObject({
      salvageFile: null,
      salvaged: {},
      unreadable: 'the main file is missing',
      previousLogId: oldId,
      issuedThrough: 103,
      unrecoverable: [[1, 103]],
      unrecoverableCount: 103,
    });
    expect(report.firstSeq).toBeGreaterThan(103);
    expect(report.moved).toEqual([[`${path}-wal`, `${path}.damaged-${STAMP}-wal`]]);
  });

  it('moves an unreadable mark aside and trusts the seq the operator gives', () => {
    makeLog(10, 0);
    writeFileSync(markPath(path), 'garbage, not a mark');
    const report = recoverLog(path, { clock: clock(), issuedAtLeast: 5000 });
    expect(report.issuedThrough).toBe(5000);
    expect(report.firstSeq).toBe(5001);
    expect(report.moved).toContainEqual([markPath(path), `${markPath(path)}.damaged-${STAMP}`]);
    expect(readFileSync(`${markPath(path)}.damaged-${STAMP}`, 'utf8')).toBe('garbage, not a mark');
    // Seqs 14..5000 may exist on a platform and are nowhere here.
    expect(report.unrecoverable).toEqual([[14, 5000]]);
    const log = openLog({ path });
    try {
      // Without a mark there is no other log to say was replaced: the recovery is the first record.
      expect(report.eventSeq).toBe(5001);
      expect(eventsOf(log.read(0, 10)).map((e) => [e.kind, e.seq])).toEqual([['log_recovered', 5001]]);
    } finally {
      log.close();
    }
  });

  it('refuses a file that is not there, and changes nothing', () => {
    expect(() => recoverLog(path)).toThrow(/no log file to recover/);
    expect(readdirSync(dirname(path))).toEqual([]);
  });

  it('refuses to guess when only a WAL is left and no mark, and moves nothing', () => {
    writeFileSync(`${path}-wal`, Buffer.alloc(4096, 7));
    let refusal: unknown;
    try {
      recoverLog(path, { clock: clock() });
    } catch (e) {
      refusal = e;
    }
    expect(refusal).toMatchObject({ code: 'STORE_RECOVER_FAILED', context: { file: path } });
    expect(readdirSync(dirname(path))).toEqual(['log.db-wal']);
  });

  it("takes the seqs issued and the log id from the damaged file's own meta when the mark is gone", () => {
    const oldId = makeLog(N, 0);
    rmSync(markPath(path));
    truncateSync(path, Math.floor(statSync(path).size / 2));
    const report = recoverLog(path, { clock: clock() });
    expect(report).toMatchObject({ previousLogId: oldId, issuedThrough: N + 3, firstSeq: N + 4 });
  });

  it('salvages what only the WAL holds and moves the file and its WAL aside byte for byte', () => {
    // The state a SIGKILL leaves: the last commits only in the WAL (copied while the log is open).
    const live = openLog({ path: `${path}.live` });
    live.append(syntheticBatch(0, 50));
    copyFileSync(`${path}.live`, path);
    copyFileSync(`${path}.live-wal`, `${path}-wal`);
    copyFileSync(markPath(`${path}.live`), markPath(path));
    live.close();
    const before = { db: digest(path), wal: digest(`${path}-wal`) };
    const report = recoverLog(path, { clock: clock() });
    expect(report.moved).toEqual([
      [path, `${path}.damaged-${STAMP}`],
      [`${path}-wal`, `${path}.damaged-${STAMP}-wal`],
    ]);
    expect(digest(`${path}.damaged-${STAMP}`)).toBe(before.db);
    expect(digest(`${path}.damaged-${STAMP}-wal`)).toBe(before.wal);
    const rows = salvagedReadings(report.salvageFile!);
    expect(rows.map((r) => r.seq)).toEqual(syntheticBatch(0, 50).map((_, i) => i + 1));
    expect(report.unrecoverableCount).toBe(0);
  });
});
