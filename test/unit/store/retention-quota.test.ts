/**
 * The quota, measured from outside: the file's budget and the WAL's share, what `stats().bytes`
 * counts, the order and size of each eviction, the gap events and cursors it leaves, the warning
 * when only events are left, a failed eviction, and age retention past one delete chunk.
 */
import { statSync } from 'node:fs';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../gateway/src/core/clock.js';
import { createLogger } from '../../../gateway/src/core/logger.js';
import type { GapPayload, Log, LogRecord } from '../../../gateway/src/store/index.js';
import { syntheticAggregate, syntheticBatch } from '../../helpers/store-fixtures.js';
import { useTempLog } from '../../helpers/temp-log.js';

const { open, path } = useTempLog();

const PAGE = 4096;
/** The WAL's share of a quota (a tenth, 16 to 1000 pages) and the file's budget, as docs/store.md gives them. */
const walShare = (quota: number) => Math.min(1000, Math.max(16, Math.round(quota / PAGE / 10))) * PAGE;
const fileBudget = (quota: number) => quota - walShare(quota) - 8192;

const pragma = (log: Log, name: string) => log.database.pragma(name, { simple: true }) as number;
/** Pages in use (not on the free list), in bytes. */
const inUse = (log: Log) => (pragma(log, 'page_count') - pragma(log, 'freelist_count')) * PAGE;
const fileBytes = () => statSync(path()).size;
const walBytes = () => statSync(`${path()}-wal`).size;

const all = (log: Log): LogRecord[] => log.read(0, 10_000_000);
const gaps = (log: Log) =>
  all(log).flatMap((r) => (r.type === 'event' && r.kind === 'gap' ? [r.payload as GapPayload] : []));
const seqsOf = (log: Log, type: LogRecord['type']) =>
  all(log).flatMap((r) => (r.type === type ? [r.seq] : []));

/** A logger that keeps its warnings (parsed JSON lines) for the test to read. */
function warnings() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: createLogger({ level: 'warn' }, sink), lines };
}
/** Runs `step` until `done()` holds, at most `max` times (a broken quota must not hang the test). */
function until(done: () => boolean, step: () => void, max: number): boolean {
  for (let i = 0; i < max && !done(); i++) step();
  return done();
}
const FULL = 'log over quota with nothing left to evict but events';
const EVICTED = 'log quota reached: undelivered records evicted';

const blob = (ts: number, size: number, fill = ts & 0xff) => ({
  ts,
  kind: 'snapshot',
  contentType: 'image/jpeg',
  bytes: new Uint8Array(size).fill(fill),
});

describe('the quota on the file and its WAL', () => {
  it('keeps the pages in use within the file budget and the file within the quota less the WAL share', () => {
    const quotaBytes = 1_000_000;
    const log = open({ quotaBytes });
    const cursor = log.cursor('mqtt');
    let produced = 0;
    let worstInUse = 0;
    let worstFile = 0;
    let worstDisk = 0;
    const append = (size: number, delivered: boolean) => {
      const span = log.append(syntheticBatch(produced, size));
      produced += size;
      if (delivered) cursor.markDone(span.first, span.last);
      worstInUse = Math.max(worstInUse, inUse(log));
      worstFile = Math.max(worstFile, fileBytes());
      worstDisk = Math.max(worstDisk, fileBytes() + walBytes());
    };
    // Small batches walk the log up to its budget; then large ones jump at it.
    let round = 0;
    const walked = until(
      () => log.stats().gapEvents > 0,
      () => append(150, round++ % 3 === 0),
      1000,
    );
    expect(walked).toBe(true);
    for (const size of [3000, 10_000, 150, 3000, 10_000]) append(size, false);
    expect(worstInUse).toBeLessThanOrEqual(fileBudget(quotaBytes));
    expect(worstFile).toBeLessThanOrEqual(quotaBytes - walShare(quotaBytes));
    expect(worstDisk).toBeLessThanOrEqual(quotaBytes);
  });

  it('leaves small commits in the WAL and checkpoints a transaction larger than its share at once', () => {
    for (const quotaBytes of [undefined, 1_000_000]) {
      const log = open(quotaBytes === undefined ? {} : { quotaBytes });
      // Opening wrote the boot counter: it waits in the WAL like any small commit.
      const afterOpen = walBytes();
      expect([quotaBytes, afterOpen > 0]).toEqual([quotaBytes, true]);
      log.append(syntheticBatch(0, 10));
      log.appendEvent({ ts: 1, kind: 'alarm', payload: 1 });
      expect([quotaBytes, walBytes() > afterOpen]).toEqual([quotaBytes, true]);
      log.close();
    }
    const quotaBytes = 1_000_000;
    const log = open({ quotaBytes });
    log.append(syntheticBatch(0, 8000)); // far more pages than the WAL's 24
    expect(walBytes()).toBeLessThanOrEqual(walShare(quotaBytes));
  });

  it('checkpoints a WAL that age retention grew past its share at the next measurement (at open)', () => {
    const quotaBytes = 1_000_000;
    const clock = new ManualClock(Date.UTC(2026, 0, 2));
    const options = { quotaBytes, clock, maxAgeMs: 3_600_000 };
    const first = open(options);
    first.append(syntheticBatch(0, 12_000, clock.now() - 7_200_000));
    first.cursor('mqtt').markDone(1, first.lastSeq);
    first.close();
    // Opening deletes the old readings (a transaction of many pages), then measures the log.
    const log = open(options);
    expect(log.rowCount).toBe(0);
    expect(walBytes()).toBeLessThanOrEqual(walShare(quotaBytes));
  });

  it('counts the database pages (the file once checkpointed) and the WAL in stats().bytes', () => {
    const log = open({ quotaBytes: 4_000_000 });
    log.append(syntheticBatch(0, 500));
    log.appendEvent({ ts: 1, kind: 'alarm', payload: 1 });
    expect(walBytes()).toBeGreaterThan(0);
    expect(log.stats().bytes).toBe(pragma(log, 'page_count') * PAGE + walBytes());
  });
});

describe('what an eviction takes', () => {
  it('counts a log of fewer than 64 records at 64 bytes a record, so a large first batch evicts nothing', () => {
    const { logger, lines } = warnings();
    const log = open({ quotaBytes: 1_000_000, logger });
    log.cursor('mqtt');
    log.append(syntheticBatch(0, 10));
    log.append(syntheticBatch(10, 2000));
    expect(log.stats().gapEvents).toBe(0);
    expect(seqsOf(log, 'reading')).toHaveLength(2010);
    expect(lines).toEqual([]);
  });

  it('brings the log down to the low-water mark in chunks sized to the need, oldest readings first', () => {
    const quotaBytes = 1_000_000;
    const { logger, lines } = warnings();
    const log = open({ quotaBytes, logger });
    log.cursor('mqtt');
    let produced = 0;
    const step = () => {
      log.append(syntheticBatch(produced, 100));
      produced += 100;
    };
    expect(until(() => log.stats().gapEvents > 0, step, 1000)).toBe(true);
    // About 2500 readings in three chunks (the first sized by the average record, the rest
    // by what it left); chunks of a fixed 64 would take dozens of gap events.
    const found = gaps(log);
    expect(found.length).toBeLessThanOrEqual(4);
    let next = 1;
    for (const g of found) {
      expect(g).toMatchObject({
        from: next,
        count: g.to - next + 1,
        reason: 'quota',
        kinds: ['reading'],
        uplinks: ['mqtt'],
      });
      next = g.to + 1;
    }
    expect(next).toBeGreaterThan(1000);
    // Down to 90 % of the budget less the batch, and not far below it.
    expect(inUse(log)).toBeLessThanOrEqual(fileBudget(quotaBytes) * 0.9);
    expect(inUse(log)).toBeGreaterThan(fileBudget(quotaBytes) * 0.8);
    // The operator sees what went; nothing claims the log is full.
    expect(lines.map((l) => l.msg)).toEqual(found.map(() => EVICTED));
    expect(lines[0]).toMatchObject({ file: path(), ...found[0] });
  });

  it('evicts at least 64 readings a chunk, and names only the uplinks that had not delivered them', () => {
    // A small quota: what the eviction must free is less than 64 average records, so the chunk
    // is the minimum, 64 readings.
    const quotaBytes = 124_000;
    const log = open({ quotaBytes });
    const hj212 = log.cursor('hj212');
    const mqtt = log.cursor('mqtt');
    // Readings 1..29, an alarm (30), readings 31..49, an aggregate (50), then readings.
    log.append(syntheticBatch(0, 29));
    log.appendEvent({ ts: 1, kind: 'alarm', payload: 1 });
    log.append(syntheticBatch(29, 19));
    log.appendAggregates([syntheticAggregate(1)]);
    let produced = 48;
    mqtt.markDone(1, 66); // mqtt has exactly the first 64 readings, and the two records between them
    const step = () => {
      log.append(syntheticBatch(produced, 5));
      produced += 5;
    };
    expect(until(() => log.stats().gapEvents > 0, step, 1000)).toBe(true);
    const first = gaps(log)[0]!;
    expect(first).toEqual({
      from: 1,
      to: 66,
      count: 64,
      reason: 'quota',
      kinds: ['reading'],
      uplinks: ['hj212'],
    });
    // The alarm and the aggregate inside the range stay, and stay to be sent.
    expect(
      all(log)
        .filter((r) => r.seq <= 66)
        .map((r) => r.seq),
    ).toEqual([30, 50]);
    expect([
      hj212.isDone(29),
      hj212.isDone(30),
      hj212.isDone(49),
      hj212.isDone(50),
      hj212.isDone(66),
    ]).toEqual([true, false, true, false, true]);
  });

  it('evicts what every uplink has, oldest first and only as many as needed, with no gap event', () => {
    const quotaBytes = 1_000_000;
    const log = open({ quotaBytes });
    const cursor = log.cursor('mqtt');
    let produced = 0;
    const step = () => {
      const span = log.append(syntheticBatch(produced, 200));
      produced += 200;
      cursor.markDone(span.first, span.last);
    };
    expect(until(() => produced > 0 && log.read(0, 1)[0]!.seq > 1, step, 1000)).toBe(true);
    expect(log.stats().gapEvents).toBe(0);
    const left = seqsOf(log, 'reading');
    // The oldest went, a contiguous run of them; most of the log is still there.
    expect(left).toEqual(Array.from({ length: left.length }, (_, i) => left[0]! + i));
    expect(left.length).toBeGreaterThan(produced / 2);
  });

  it('evicts blobs every uplink has before older delivered readings', () => {
    const quotaBytes = 1_000_000;
    const log = open({ quotaBytes });
    const cursor = log.cursor('mqtt');
    const readings = log.append(syntheticBatch(0, 3000));
    for (let i = 0; i < 4; i++) log.appendBlob(blob(i, 40_000));
    cursor.markDone(1, log.lastSeq);
    let produced = 3000;
    const step = () => {
      log.append(syntheticBatch(produced, 200));
      produced += 200;
    };
    expect(until(() => log.latestBlob('snapshot') === undefined, step, 1000)).toBe(true);
    // The pictures made the room: every delivered reading is still there, and no gap event.
    expect(seqsOf(log, 'reading').slice(0, readings.last)).toEqual(
      Array.from({ length: readings.last }, (_, i) => i + 1),
    );
    expect(log.stats().gapEvents).toBe(0);
  });

  it('evicts undelivered blobs by their size, as many as the room needs, before any reading', () => {
    const quotaBytes = 1_000_000;
    const { logger, lines } = warnings();
    const log = open({ quotaBytes, logger });
    log.cursor('mqtt');
    log.append(syntheticBatch(0, 1000));
    const size = 30_000;
    let i = 0;
    expect(
      until(
        () => log.stats().gapEvents > 0,
        () => log.appendBlob(blob(i++, size)),
        100,
      ),
    ).toBe(true);
    const [gap] = gaps(log);
    expect(gaps(log)).toHaveLength(1);
    expect(gap).toMatchObject({ from: 1001, kinds: ['blob'], uplinks: ['mqtt'] });
    // A tenth of the budget and the new picture, at about 30 kB a picture: four to six of them.
    expect(gap!.count).toBeGreaterThanOrEqual(4);
    expect(gap!.count).toBeLessThanOrEqual(6);
    expect(gap!.to - gap!.from + 1).toBe(gap!.count);
    expect(seqsOf(log, 'reading')).toHaveLength(1000);
    expect(lines.map((l) => l.msg)).toEqual([EVICTED]);
  });

  it('evicts the last few readings of the log in one gap event, then aggregates', () => {
    const quotaBytes = 300_000;
    const log = open({ quotaBytes });
    log.cursor('mqtt');
    log.append(syntheticBatch(0, 30));
    let i = 0;
    // Until a second gap event: the readings' and the first aggregates'.
    const step = () =>
      log.appendAggregates(Array.from({ length: 20 }, () => syntheticAggregate(i++, `p${i % 40}`)));
    expect(until(() => log.stats().gapEvents >= 2, step, 1000)).toBe(true);
    const [readings, aggregates] = gaps(log);
    expect(readings).toMatchObject({ from: 1, to: 30, count: 30, kinds: ['reading'] });
    expect(aggregates!.kinds).toEqual(['aggregate']);
  });
});

describe('a log with only events over its quota', () => {
  it('keeps the events, warns once with the file, its use and the quota, and again after it recovered', () => {
    const quotaBytes = 200_000;
    const { logger, lines } = warnings();
    const log = open({ quotaBytes, logger });
    const cursor = log.cursor('mqtt');
    const payload = 'x'.repeat(2000);
    let n = 0;
    const event = () => log.appendEvent({ ts: n++, kind: 'alarm', payload });
    const fill = () => {
      expect(until(() => lines.some((l) => l.msg === FULL), event, 500)).toBe(true);
      for (let k = 0; k < 20; k++) event();
    };
    fill();
    expect(lines.filter((l) => l.msg === FULL)).toHaveLength(1);
    expect(lines[0]).toMatchObject({ msg: FULL, file: path(), quota: quotaBytes });
    expect(lines[0]!.used).toBeGreaterThan(fileBudget(quotaBytes));
    expect(seqsOf(log, 'event')).toHaveLength(n);
    expect(log.stats().gapEvents).toBe(0);
    // Once they are delivered they can go, and the next time only events are left it warns again.
    cursor.markDone(1, log.lastSeq);
    lines.length = 0;
    fill();
    expect(lines.filter((l) => l.msg === FULL)).toHaveLength(1);
    expect(lines.map((l) => l.msg)).not.toContain(EVICTED);
  });
});

describe('a failed eviction', () => {
  it('leaves the cursors where they were and the records in place', () => {
    const log = open({ quotaBytes: 300_000 });
    const cursor = log.cursor('mqtt');
    cursor.markDone(5, 9);
    let produced = 0;
    const fill = (n: number) => {
      log.append(syntheticBatch(produced, n));
      produced += n;
    };
    fill(100);
    // The gap event cannot be written: the eviction's transaction fails and rolls back.
    log.database.exec(
      `CREATE TRIGGER no_gap BEFORE INSERT ON events WHEN NEW.kind = 'gap' BEGIN SELECT RAISE(ABORT, 'no gap'); END`,
    );
    const before = cursor.snapshot();
    expect(() => {
      for (let k = 0; k < 100; k++) fill(100);
    }).toThrow(/no gap/);
    expect(cursor.snapshot()).toEqual(before);
    expect(seqsOf(log, 'reading')[0]).toBe(1);
  });
});

describe('age retention in more than one chunk', () => {
  it('deletes every old delivered record, past 50 000 in one run', () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 2));
    const log = open({ clock, maxAgeMs: 3_600_000 });
    const old = clock.now() - 7_200_000;
    for (let i = 0; i < 52_000; i += 13_000) log.append(syntheticBatch(i, 13_000, old - 52_000 * 100));
    log.append(syntheticBatch(0, 5, clock.now()));
    log.cursor('mqtt').markDone(1, log.lastSeq);
    log.maintain();
    expect(all(log).map((r) => r.seq)).toEqual([52_001, 52_002, 52_003, 52_004, 52_005]);
    expect(log.rowCount).toBe(5);
  });
});
