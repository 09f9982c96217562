/**
 * The log's promises that mutation testing found unwatched (docs/testing.md, "Surviving mutants,
 * explained", store-log): the look-ups beside `read`, the high-water mark's numbers, the record
 * count under eviction, the corners of the mark check at open, refusals of files that are not
 * logs or cannot be opened, and what the log does while it cannot write (retries on its timer,
 * cursors kept in memory, what it says and what it writes at close).
 */
import { existsSync, mkdirSync, readFileSync, rmSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../../gateway/src/core/clock.js';
import { isLantianError, type LantianError } from '../../../gateway/src/core/errors.js';
import { createLogger, type Logger } from '../../../gateway/src/core/logger.js';
import { openLog, type Log, type LogOptions, type LogRecord } from '../../../gateway/src/store/index.js';
import { markPath, readMark, RESERVE_BLOCK } from '../../../gateway/src/store/mark.js';
import { createSchema, MIGRATIONS, openDatabase, SCHEMA_VERSION } from '../../../gateway/src/store/schema.js';
import { syntheticBatch } from '../../helpers/store-fixtures.js';
import { useTempLog } from '../../helpers/temp-log.js';

const { open, path } = useTempLog();
const NOW = Date.UTC(2026, 5, 1);

/** The LantianError opening `options` throws (fails the test when it opens). */
function openError(options: Partial<LogOptions> = {}): LantianError {
  try {
    openLog({ path: path(), ...options }).close();
  } catch (e) {
    if (isLantianError(e)) return e;
    throw e;
  }
  throw new Error('the log opened');
}

/** A logger that keeps every line it is given, parsed. */
type Line = { level: number; msg: string; [k: string]: unknown };
function capture(): { logger: Logger; lines: Line[] } {
  const lines: Line[] = [];
  const logger = createLogger(
    { level: 'debug' },
    { write: (s: string) => void lines.push(JSON.parse(s) as Line) },
  );
  return { logger, lines };
}
const WARN = 40;
const ERROR = 50;
const INFO = 30;

const eventsOf = (log: Log) =>
  log.read(0, log.lastSeq + 1).filter((r): r is Extract<LogRecord, { type: 'event' }> => r.type === 'event');

describe('looking up the newest records', () => {
  it('finds the seqs of the newest reading of each point of a device, oldest first', () => {
    const log = open();
    const r = (device: string, point: string, value: number) =>
      ({ ts: 1000 + value, device, point, value, flag: 'N' }) as const;
    log.append([r('a', 'x', 1), r('a', 'y', 2), r('b', 'x', 3)]); // 1, 2, 3
    log.append([r('a', 'x', 4), r('b', 'y', 5)]); // 4, 5
    expect(log.latestReadingSeqs('a')).toEqual([2, 4]);
    expect(log.latestReadingSeqs('a', 'x')).toEqual([4]);
    expect(log.latestReadingSeqs('a', 'y')).toEqual([2]);
    expect(log.latestReadingSeqs('b')).toEqual([3, 5]);
    expect(log.latestReadingSeqs('a', 'nope')).toEqual([]);
    expect(log.latestReadingSeqs('nobody')).toEqual([]);
    // Only the newest `lookBack` records are searched.
    expect(log.latestReadingSeqs('a', undefined, 2)).toEqual([4]);
  });

  it('gives the newest event of a kind, and the newest blob of a kind and of a source with its detail', () => {
    const log = open();
    expect(log.latestEvent('level')).toBeUndefined();
    expect(log.latestBlob('snapshot')).toBeUndefined();
    log.appendEvent({ ts: 1, kind: 'level', payload: { level: 1 } }); // 1
    log.appendEvent({ ts: 2, kind: 'other', payload: 0 }); // 2
    log.appendEvent({ ts: 3, kind: 'level', payload: { level: 2 } }); // 3
    const png = (ts: number, source: string, byte: number) => ({
      ts,
      kind: 'snapshot',
      contentType: 'image/png',
      bytes: new Uint8Array([byte]),
      source,
      trigger: { reason: 'periodic' as const },
    });
    log.appendBlob(png(4, 'cam1', 1)); // 4
    log.appendBlob(png(5, 'cam2', 2)); // 5
    log.appendBlob({ ts: 6, kind: 'other', contentType: 'c', bytes: new Uint8Array([3]) }); // 6
    expect(log.latestEvent('level')).toEqual({
      type: 'event',
      seq: 3,
      ts: 3,
      kind: 'level',
      payload: { level: 2 },
    });
    expect(log.latestBlob('snapshot')).toMatchObject({
      seq: 5,
      source: 'cam2',
      trigger: { reason: 'periodic' },
    });
    expect(log.latestBlob('snapshot', 'cam1')).toMatchObject({ seq: 4, ts: 4, source: 'cam1' });
    expect(Buffer.from(log.latestBlob('snapshot', 'cam1')!.bytes)).toEqual(Buffer.from([1]));
    expect(log.latestBlob('snapshot', 'cam3')).toBeUndefined();
    // A blob read back by `read` carries its detail too; one without detail carries none.
    const [withDetail, without] = log.read(4, 10);
    expect(withDetail).toMatchObject({ seq: 5, source: 'cam2', trigger: { reason: 'periodic' } });
    expect(without).not.toHaveProperty('source');
    expect(log.readEvents(0, 10).map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(log.readEvents(1, 1, 3)).toEqual([{ type: 'event', seq: 2, ts: 2, kind: 'other', payload: 0 }]);
  });
});

describe('the high-water mark beside the log', () => {
  it('reserves a block above the first seq it commits and keeps it across a restart', () => {
    const log = open();
    log.append(syntheticBatch(0, 3));
    expect(readMark(path())).toMatchObject({ next: 4, reserved: 3 + RESERVE_BLOCK });
    // After every commit the mark holds the next seq, before the log is closed.
    log.append(syntheticBatch(3, 2));
    expect(readMark(path())).toMatchObject({ next: 6, reserved: 3 + RESERVE_BLOCK });
    log.close();
    const again = open();
    expect(readMark(path())).toMatchObject({ next: 6, reserved: 3 + RESERVE_BLOCK, boot: 2 });
    expect(again.lastSeq).toBe(5);
  });

  it('reserves exactly what the file issued when the mark was lost', () => {
    const log = open();
    log.append(syntheticBatch(0, 3));
    log.close();
    rmSync(markPath(path()));
    const back = open();
    expect(readMark(path())).toMatchObject({ next: 4, reserved: 3 });
    expect(back.stats().gapEvents).toBe(0);
  });
});

/** Records in the file's four tables, counted the slow way. */
const counted = (log: Log) =>
  ['readings', 'events', 'aggregates', 'blobs']
    .map((t) => log.database.prepare(`SELECT count(*) FROM ${t}`).pluck().get() as number)
    .reduce((a, b) => a + b, 0);

describe('the record count while retention deletes', () => {
  it('stays equal to the records held through quota evictions with gap events, and across a restart', () => {
    const log = open({ quotaBytes: 400_000 });
    log.cursor('mqtt');
    for (let i = 0; i < 12_000; i += 500) log.append(syntheticBatch(i, 500));
    const gaps = eventsOf(log).filter((e) => e.kind === 'gap');
    expect(gaps.length).toBeGreaterThan(0);
    expect(log.stats().gapEvents).toBe(gaps.length);
    expect(log.rowCount).toBe(counted(log));
    expect(log.rowCount).toBeLessThan(12_000);
    // Each gap event took the seq after the batch it made room for, and no seq is used twice.
    const seqs = log.read(0, 1_000_000).map((r) => r.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(Math.max(...seqs)).toBe(log.lastSeq);
    expect(log.lastSeq).toBe(12_000 + gaps.length);
    const held = log.rowCount;
    log.close();
    const again = open({ quotaBytes: 400_000 });
    expect(again.rowCount).toBe(held);
    expect(again.append(syntheticBatch(0, 1)).first).toBe(12_001 + gaps.length);
  });

  it('deletes delivered old records after an append, without being asked, and counts them out', () => {
    const clock = new ManualClock(NOW);
    const log = open({ clock, maxAgeMs: 1000, ageCheckEveryMs: 0 });
    log.append(syntheticBatch(0, 10, NOW - 10_000)); // 1..10
    log.appendEvent({ ts: NOW - 10_000, kind: 'alarm', payload: 1 }); // 11
    log.cursor('mqtt').markDone(1, 11);
    expect(log.rowCount).toBe(11);
    log.append(syntheticBatch(10, 2, NOW)); // 12, 13
    expect(log.read(0, 100).map((r) => r.seq)).toEqual([12, 13]);
    expect(log.rowCount).toBe(2);
    expect(counted(log)).toBe(2);
    expect(log.stats().gapEvents).toBe(0);
    log.close();
    expect(open().rowCount).toBe(2);
  });
});

/** Rewrites the closed log's file with `sql` (a test's stand-in for a lost WAL or a restored copy). */
function edit(sql: string): void {
  const db = new Database(path());
  db.exec(sql);
  db.close();
}

describe('the mark check at open, at its corners', () => {
  it('starts a new epoch when the file lost commits within the same boot, and keeps the new id', () => {
    const first = open();
    first.append(syntheticBatch(0, 10));
    first.cursor('mqtt').markDone(1, 3);
    const oldId = first.logId;
    first.close();
    const { reserved } = readMark(path())!;
    // The last five commits are gone, as after a lost WAL: the file's boot is the mark's.
    edit(`DELETE FROM readings WHERE seq > 5; UPDATE meta SET value = 6 WHERE key = 'next_seq';
      UPDATE meta SET value = 5 WHERE key = 'row_count';`);
    const log = open({ clock: new ManualClock(NOW) });
    const [rewound, ...others] = eventsOf(log);
    expect(others).toEqual([]);
    expect(rewound).toMatchObject({ seq: reserved + 1, kind: 'log_rewound' });
    expect(rewound!.payload).toMatchObject({
      from: 6,
      to: reserved,
      reason: 'behind_mark',
      previousLogId: oldId,
    });
    expect(log.logId).not.toBe(oldId);
    expect(log.stats().gapEvents).toBe(1);
    expect(log.rowCount).toBe(6);
    const newId = log.logId;
    log.close();
    // The new id is the file's: a plain restart keeps it and records nothing more.
    const again = open();
    expect(again.logId).toBe(newId);
    expect(eventsOf(again)).toHaveLength(1);
  });

  /**
   * A log started at `startSeq(reserved)` and given `fill`, beside the mark of another log that
   * reserved `reserved`; returns that and the log's id.
   */
  function besideForeignMark(startSeq: (reserved: number) => number, fill: (log: Log) => void) {
    const other = open();
    other.append(syntheticBatch(0, 5));
    other.close();
    const foreign = readFileSync(markPath(path()));
    const { reserved } = readMark(path())!;
    rmSync(path());
    rmSync(markPath(path()));
    const mine = open({ startSeq: startSeq(reserved) });
    fill(mine);
    const id = mine.logId;
    mine.close();
    writeFileSync(markPath(path()), foreign);
    return { reserved, id };
  }

  it('records nothing for the mark of another log that reserved less than the file issued', () => {
    const { reserved, id: myId } = besideForeignMark(
      (r) => r + 100,
      (l) => l.append(syntheticBatch(0, 2)),
    );
    const { logger, lines } = capture();
    const log = open({ logger });
    expect(eventsOf(log)).toEqual([]);
    expect(log.logId).toBe(myId);
    expect(log.lastSeq).toBe(reserved + 101);
    expect(lines.filter((l) => l.level === WARN)).toMatchObject([
      { file: path(), logId: myId, msg: expect.stringContaining('another log') as unknown },
    ]);
  });

  it('skips a single seq the mark of another log reserved, and counts it done', () => {
    // This log's next seq is the last one the other log reserved.
    const { reserved } = besideForeignMark(
      (r) => r,
      (l) => l.cursor('mqtt'),
    );
    const log = open();
    const [rewound, ...others] = eventsOf(log);
    expect(others).toEqual([]);
    expect(rewound).toMatchObject({ seq: reserved + 1, kind: 'log_rewound' });
    expect(rewound!.payload).toMatchObject({
      from: reserved,
      to: reserved,
      count: 1,
      reason: 'mark_of_another_log',
    });
    expect(log.cursor('mqtt').isDone(reserved)).toBe(true);
    expect(log.cursor('mqtt').isDone(reserved + 1)).toBe(false);
  });
});

describe('files the log cannot open or will not use', () => {
  it('refuses a path it cannot open with STORE_OPEN_FAILED, its cause, and no recovery hint', () => {
    mkdirSync(path());
    writeFileSync(`${path()}/inside`, 'x');
    const e = openError();
    expect(e.code).toBe('STORE_OPEN_FAILED');
    expect(e.context).toEqual({ file: path() });
    expect((e.cause as { code?: string }).code).toMatch(/^SQLITE_IOERR/);
    expect(e.message).not.toContain('lantian log recover');
  });

  it('keeps the cause when the directory for a new log cannot be made', () => {
    const file = `${path()}.plain`;
    writeFileSync(file, 'x');
    let e: unknown;
    try {
      openLog({ path: `${file}/log.db` });
    } catch (err) {
      e = err;
    }
    expect(isLantianError(e, 'STORE_OPEN_FAILED')).toBe(true);
    expect(((e as LantianError).cause as { code?: string }).code).toMatch(/^E(EXIST|NOTDIR)$/);
  });

  /** A SQLite file in WAL mode that is not a log, closed with `walBytes` left in its WAL. */
  function foreignWal(keepWal: boolean): void {
    const db = new Database(path());
    db.pragma('journal_mode = WAL');
    db.pragma('wal_autocheckpoint = 0');
    db.exec('CREATE TABLE customers (name TEXT)');
    if (!keepWal) {
      db.close();
      return;
    }
    db.exec(`INSERT INTO customers VALUES ('${'x'.repeat(5000)}')`);
    // Copied while open, as a crash leaves it: the file and its WAL, no index.
    writeFileSync(`${path()}.copy`, readFileSync(path()));
    writeFileSync(`${path()}.copy-wal`, readFileSync(`${path()}-wal`));
    db.close();
    for (const s of ['', '-wal', '-shm']) rmSync(`${path()}${s}`, { force: true });
    writeFileSync(path(), readFileSync(`${path()}.copy`));
    writeFileSync(`${path()}-wal`, readFileSync(`${path()}.copy-wal`));
  }

  it('leaves no index and no empty WAL beside a refused file in WAL mode', () => {
    foreignWal(false);
    expect(existsSync(`${path()}-wal`)).toBe(false);
    expect(openError().code).toBe('STORE_NOT_A_LOG');
    expect(existsSync(`${path()}-shm`)).toBe(false);
    expect(existsSync(`${path()}-wal`)).toBe(false);
  });

  it('leaves a refused file and the WAL a crash left beside it as they were', () => {
    foreignWal(true);
    const file = readFileSync(path());
    const wal = readFileSync(`${path()}-wal`);
    expect(wal.length).toBeGreaterThan(5000);
    expect(openError().code).toBe('STORE_NOT_A_LOG');
    expect(readFileSync(path())).toEqual(file);
    expect(readFileSync(`${path()}-wal`)).toEqual(wal);
    expect(existsSync(`${path()}-shm`)).toBe(false);
  });

  it('leaves the index and the empty WAL of a program that has the refused file open', () => {
    const db = new Database(path());
    try {
      db.pragma('journal_mode = WAL');
      db.exec('CREATE TABLE customers (name TEXT)');
      db.pragma('wal_checkpoint(TRUNCATE)');
      expect(statSync(`${path()}-wal`).size).toBe(0);
      expect(openError().code).toBe('STORE_NOT_A_LOG');
      expect(existsSync(`${path()}-shm`)).toBe(true);
      expect(existsSync(`${path()}-wal`)).toBe(true);
      expect(db.prepare('SELECT count(*) FROM customers').pluck().get()).toBe(0);
    } finally {
      db.close();
    }
  });

  /** A closed log whose header no longer lists its free pages: damage only a check finds. */
  function lostFreelist(): void {
    const log = open();
    for (let i = 0; i < 4000; i += 500) log.append(syntheticBatch(i, 500));
    log.close();
    edit('DELETE FROM readings WHERE seq > 100');
    const bytes = readFileSync(path());
    expect(bytes.readUInt32BE(36)).toBeGreaterThan(0);
    bytes.writeUInt32BE(0, 32);
    bytes.writeUInt32BE(0, 36);
    writeFileSync(path(), bytes);
  }

  it('refuses a log its quick check finds damaged, naming the problems', () => {
    lostFreelist();
    const e = openError();
    expect(e.code).toBe('STORE_CORRUPT');
    expect(e.context).toEqual({ file: path() });
    expect(e.message).toMatch(/integrity check failed: .*never used/s);
  });

  it('opens the same log without the check when integrityCheck is none', () => {
    lostFreelist();
    const log = open({ integrityCheck: 'none' });
    expect(log.lastSeq).toBe(4000);
    expect(log.read(0, 1000).map((r) => r.seq)).toHaveLength(100);
  });

  it('reports a failed upgrade with the versions it went from and to, and its cause', () => {
    openDatabase(path(), {
      synchronous: 'normal',
      integrityCheck: 'quick',
      migrations: ['CREATE TABLE a (x);'],
    }).close();
    let e: unknown;
    try {
      openDatabase(path(), {
        synchronous: 'normal',
        integrityCheck: 'quick',
        migrations: ['CREATE TABLE a (x);', 'INSERT INTO nowhere VALUES (1);'],
      });
    } catch (err) {
      e = err;
    }
    expect(isLantianError(e, 'STORE_MIGRATION_FAILED')).toBe(true);
    expect((e as LantianError).context).toEqual({ file: path(), from: 1, to: 2 });
    expect(((e as LantianError).cause as { code?: string }).code).toBe('SQLITE_ERROR');
  });

  it('gives an empty database the whole schema of a log', () => {
    const db = new Database(path());
    try {
      createSchema(db);
      expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      expect(db.pragma('application_id', { simple: true })).toBe(0x4c544e4c);
      expect(db.prepare(`SELECT value FROM meta WHERE key = 'next_seq'`).pluck().get()).toBe(1);
      expect(MIGRATIONS).toHaveLength(SCHEMA_VERSION);
    } finally {
      db.close();
    }
  });

  it('names the file in the context of STORE_CLOSED', () => {
    const log = open();
    log.close();
    let e: unknown;
    try {
      log.append(syntheticBatch(0, 1));
    } catch (err) {
      e = err;
    }
    expect(isLantianError(e, 'STORE_CLOSED')).toBe(true);
    expect((e as LantianError).context).toEqual({ file: path() });
  });
});

/**
 * A log at its hard limit, filled to the last reading that fits: every further append of a
 * reading fails with STORE_WRITE_FAILED. The cursor `mqtt` exists (its row is written).
 */
function full(extra: Partial<LogOptions> = {}): { log: Log; held: number } {
  const log = open({ hardLimitBytes: 300_000, retryMs: 3_600_000, ...extra });
  log.cursor('mqtt');
  let held = 0;
  for (const size of [200, 1]) {
    for (;;) {
      try {
        log.append(syntheticBatch(held, size, NOW));
        held += size;
      } catch (e) {
        if (isLantianError(e, 'STORE_WRITE_FAILED')) break;
        throw e;
      }
    }
  }
  return { log, held };
}

/** Frees the full log: everything held is delivered and old, and age retention deletes it. */
function makeRoom(log: Log, held: number, clock: ManualClock): void {
  log.cursor('mqtt').markDone(1, held);
  void clock.advance(2 * 86_400_000);
  log.maintain();
}

describe('a log that cannot write', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('says why a write failed: STORE_WRITE_FAILED with the SQLite code, the file and the cause', () => {
    const { log, held } = full();
    let e: unknown;
    try {
      log.append(syntheticBatch(held, 1));
    } catch (err) {
      e = err;
    }
    expect(isLantianError(e, 'STORE_WRITE_FAILED')).toBe(true);
    expect((e as LantianError).context).toEqual({ file: path(), code: 'SQLITE_FULL' });
    expect(((e as LantianError).cause as { code?: string }).code).toBe('SQLITE_FULL');
    expect(log.lastSeq).toBe(held);
  });

  it('answers an empty batch with an empty span while readings wait, and queues nothing', () => {
    const { log, held } = full();
    expect(log.accept(syntheticBatch(held, 5))).toBeUndefined();
    expect(log.accept([])).toEqual({ first: held + 1, last: held });
    expect(log.stats().pendingReadings).toBe(5);
  });

  it('retries the queue on its own timer, every retryMs, with one timer, until it is written', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const clock = new ManualClock(NOW);
    const { log, held } = full({ clock, maxAgeMs: 1000, retryMs: 5000 });
    expect(vi.getTimerCount()).toBe(0);
    expect(log.accept(syntheticBatch(held, 3, NOW + 1))).toBeUndefined();
    expect(log.accept(syntheticBatch(held + 3, 2, NOW + 1))).toBeUndefined();
    expect(vi.getTimerCount()).toBe(1);
    // Still full: the retry fails, counts the failure and waits for the next turn.
    vi.advanceTimersByTime(5000);
    expect(log.stats()).toMatchObject({ pendingReadings: 5, writeFailures: 2 });
    expect(vi.getTimerCount()).toBe(1);
    makeRoom(log, held, clock);
    vi.advanceTimersByTime(4999);
    expect(log.stats().pendingReadings).toBe(5);
    vi.advanceTimersByTime(1);
    expect(log.stats()).toMatchObject({ pendingReadings: 0, lastSeq: held + 5 });
    expect(log.read(held, 10).map((r) => r.seq)).toEqual([1, 2, 3, 4, 5].map((i) => held + i));
    expect(vi.getTimerCount()).toBe(0);
  });

  it('retries every second by default', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const clock = new ManualClock(NOW);
    const { log, held } = full({ clock, maxAgeMs: 1000, retryMs: undefined });
    expect(log.accept(syntheticBatch(held, 3, NOW + 1))).toBeUndefined();
    makeRoom(log, held, clock);
    vi.advanceTimersByTime(999);
    expect(log.stats().pendingReadings).toBe(3);
    vi.advanceTimersByTime(1);
    expect(log.stats().pendingReadings).toBe(0);
  });

  it('says once that it cannot write, once that it can again, and again at the next failure', () => {
    const clock = new ManualClock(NOW);
    const { logger, lines } = capture();
    const { log, held } = full({ clock, maxAgeMs: 1000, logger });
    lines.length = 0;
    expect(log.retryPending()).toBe(true);
    log.accept(syntheticBatch(held, 3, NOW + 1));
    log.accept(syntheticBatch(held + 3, 3, NOW + 1));
    expect(log.retryPending()).toBe(false);
    const said = () => lines.map((l) => [l.level, l.msg]);
    expect(said()).toEqual([[ERROR, 'the log cannot write: readings are queued in memory and retried']]);
    expect(lines[0]).toMatchObject({ file: path(), err: { code: 'STORE_WRITE_FAILED' } });
    makeRoom(log, held, clock);
    lines.length = 0;
    expect(log.retryPending()).toBe(true);
    expect(lines.filter((l) => l.level === INFO)).toMatchObject([
      { file: path(), msg: 'the log accepts writes again; queued readings committed' },
    ]);
    // Fill it again: the next failure is reported again.
    lines.length = 0;
    for (let i = 0; ; i += 200) {
      if (log.accept(syntheticBatch(i, 200, NOW + 2)) === undefined) break;
    }
    expect(lines.filter((l) => l.level === ERROR).map((l) => l.msg)).toEqual([
      'the log cannot write: readings are queued in memory and retried',
    ]);
  });

  it('gives the unlogged event the next seq and goes on from there', () => {
    const clock = new ManualClock(NOW);
    const { log, held } = full({ clock, maxAgeMs: 1000, pendingMaxReadings: 10 });
    log.accept(syntheticBatch(held, 8, NOW + 1));
    log.accept(syntheticBatch(held + 8, 8, NOW + 1));
    makeRoom(log, held, clock);
    expect(log.retryPending()).toBe(true);
    const [unlogged] = eventsOf(log).filter((e) => e.kind === 'unlogged');
    expect(unlogged!.seq).toBe(log.lastSeq);
    expect(log.lastSeq).toBe(held + 9);
    expect(log.append(syntheticBatch(0, 1)).first).toBe(held + 10);
  });

  it('writes what waits when it is closed, and says what it could not write', () => {
    const clock = new ManualClock(NOW);
    const { log, held } = full({ clock, maxAgeMs: 1000 });
    log.accept(syntheticBatch(held, 4, NOW + 1));
    makeRoom(log, held, clock);
    log.close();
    const again = open();
    expect(again.lastSeq).toBe(held + 4);
    expect(again.read(held, 10)).toHaveLength(4);
    again.close();

    const { logger, lines } = capture();
    const stuck = full({ logger }).log;
    stuck.accept(syntheticBatch(0, 4));
    lines.length = 0;
    stuck.close();
    expect(lines.filter((l) => l.level === ERROR)).toMatchObject([
      {
        file: path(),
        pendingReadings: 4,
        msg: 'the log was closed with readings it could not write: they are lost',
      },
    ]);
  });

  it('says nothing at close when nothing waits', () => {
    const { logger, lines } = capture();
    const log = open({ logger });
    log.append(syntheticBatch(0, 2));
    log.close();
    expect(lines.filter((l) => l.level >= WARN)).toEqual([]);
  });
});

describe('a cursor the log cannot write', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Done ranges of every other seq: a cursor row far larger than the room left in the file. */
  function sparse(log: Log, held: number): void {
    const c = log.cursor('mqtt');
    for (let s = 2; s <= held; s += 2) c.markDoneInMemory(s, s);
  }

  it('keeps it in memory, counts and reports the failure once, and writes it when it fits again', () => {
    const { logger, lines } = capture();
    const { log, held } = full({ logger });
    lines.length = 0;
    sparse(log, held);
    const c = log.cursor('mqtt');
    c.markDone(held, held);
    expect(c.isSaved).toBe(false);
    expect(log.stats().writeFailures).toBe(1);
    expect(lines.filter((l) => l.level === WARN)).toHaveLength(1);
    c.markDone(held - 2, held - 2);
    expect(log.stats().writeFailures).toBe(2);
    expect(lines.filter((l) => l.level === WARN)).toMatchObject([
      { file: path(), uplink: 'mqtt', msg: expect.stringContaining('cannot write the cursor') as unknown },
    ]);
    // Still too large: the retry leaves it unsaved.
    expect(log.retryPending()).toBe(false);
    expect(c.isSaved).toBe(false);
    // Delivered through the end: the row is small again and the retry writes it.
    c.markDoneInMemory(1, held);
    expect(log.retryPending()).toBe(true);
    expect(c.isSaved).toBe(true);
    log.close();
    expect(open().cursor('mqtt').prefix).toBe(held);
  });

  it('is written at close once it fits, and nothing is reported lost', () => {
    const { logger, lines } = capture();
    const { log, held } = full({ logger });
    sparse(log, held);
    log.cursor('mqtt').markDone(held, held);
    expect(log.cursor('mqtt').isSaved).toBe(false);
    log.cursor('mqtt').markDoneInMemory(1, held);
    log.close();
    expect(lines.filter((l) => l.level === ERROR)).toEqual([]);
    expect(open().cursor('mqtt').prefix).toBe(held);
  });

  it('is retried on the timer', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { log, held } = full({ retryMs: 100 });
    sparse(log, held);
    const c = log.cursor('mqtt');
    c.markDone(held, held);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(100);
    expect(c.isSaved).toBe(false);
    c.markDoneInMemory(1, held);
    vi.advanceTimersByTime(100);
    expect(c.isSaved).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('a log that must start an epoch on a full file', () => {
  /** A full log whose mark says it issued `lost` seqs more than the file holds (a lost WAL). */
  function behindOnFullFile(lost: number): { held: number; reserved: number } {
    const { log } = full();
    // The events' last page full too: the epoch's event cannot be written.
    for (const size of [300, 1]) {
      for (;;) {
        try {
          log.appendEvent({ ts: NOW, kind: 'filler', payload: 'x'.repeat(size) });
        } catch (e) {
          if (isLantianError(e, 'STORE_WRITE_FAILED')) break;
          throw e;
        }
      }
    }
    const last = log.lastSeq;
    log.close();
    const mark = readMark(path())!;
    writeFileSync(markPath(path()), JSON.stringify({ ...mark, next: last + 1 + lost }));
    return { held: last, reserved: mark.reserved };
  }

  it('refuses to start with STORE_DISK_FULL, saying what it needs and what is free, and lets go of the file', () => {
    const { held, reserved } = behindOnFullFile(50);
    const e = openError({ hardLimitBytes: 300_000 });
    expect(e.code).toBe('STORE_DISK_FULL');
    const dir = dirname(path());
    const s = statfsSync(dir);
    const free = e.context.freeBytes as number;
    expect(e.context).toMatchObject({ file: path(), neededBytes: 1024 * 1024 });
    expect(Math.abs(free - s.bavail * s.bsize)).toBeLessThan(0.01 * s.bavail * s.bsize + 1);
    expect(e.message).toContain(
      `needs at least 1.00 MiB free in ${dir} to start, ${(free / 1024 / 1024).toFixed(2)} MiB is free.`,
    );
    expect(isLantianError(e.cause, 'STORE_WRITE_FAILED')).toBe(true);
    // With room, the same file opens and skips every seq the mark reserved.
    const log = open();
    const rewound = eventsOf(log).filter((x) => x.kind === 'log_rewound');
    expect(rewound).toHaveLength(1);
    expect(rewound[0]).toMatchObject({ seq: reserved + 1, payload: { from: held + 1, to: reserved } });
  });
});
