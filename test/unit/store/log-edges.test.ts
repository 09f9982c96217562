/**
 * The log's edges: empty batches, reads that mix kinds under a limit, listeners that throw, a
 * closed log, counters, and readings queued while the file refuses writes (its hard limit).
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../gateway/src/core/clock.js';
import { isLantianError } from '../../../gateway/src/core/errors.js';
import type { openLog } from '../../../gateway/src/store/index.js';
import { type Log, type LogRecord } from '../../../gateway/src/store/index.js';
import { codeOf, syntheticAggregate, syntheticBatch, useTempLog } from '../../helpers/store-fixtures.js';

const { open } = useTempLog();

describe('the log at its edges', () => {
  it('answers an empty batch with an empty span after the last seq and writes nothing', () => {
    const log = open();
    log.append(syntheticBatch(0, 3));
    const seen: number[] = [];
    log.onAppend((s) => seen.push(s));
    expect(log.append([])).toEqual({ first: 4, last: 3 });
    expect(log.accept([])).toEqual({ first: 4, last: 3 });
    expect(seen).toEqual([]);
    expect(log.rowCount).toBe(3);
  });

  it('counts the records it holds across kinds and restarts', () => {
    const log = open();
    log.append(syntheticBatch(0, 3));
    log.appendEvent({ ts: 1, kind: 'alarm', payload: 1 });
    log.appendAggregates([syntheticAggregate(1), syntheticAggregate(2)]);
    log.appendBlob({ ts: 1, kind: 'snapshot', contentType: 'image/png', bytes: new Uint8Array([9]) });
    expect(log.rowCount).toBe(7);
    log.close();
    expect(open().rowCount).toBe(7);
  });

  it('reads mixed kinds in seq order, the limit counting across kinds, the until bound inclusive', () => {
    const log = open();
    log.appendEvent({ ts: 1, kind: 'a', payload: 1 }); // 1
    log.append(syntheticBatch(0, 2)); // 2, 3
    log.appendAggregates([syntheticAggregate(1)]); // 4
    log.appendEvent({ ts: 2, kind: 'b', payload: 2 }); // 5
    log.appendBlob({ ts: 3, kind: 'k', contentType: 'c', bytes: new Uint8Array([1]) }); // 6
    log.append(syntheticBatch(2, 2)); // 7, 8
    const seqs = (rs: LogRecord[]) => rs.map((r) => r.seq);
    expect(seqs(log.read(0, 100))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(seqs(log.read(0, 3))).toEqual([1, 2, 3]);
    expect(seqs(log.read(3, 2))).toEqual([4, 5]);
    expect(seqs(log.read(1, 100, 6))).toEqual([2, 3, 4, 5, 6]);
    expect(seqs(log.read(6, 100))).toEqual([7, 8]);
    expect(seqs(log.read(8, 100))).toEqual([]);
    expect(seqs(log.read(0, 100, 0))).toEqual([]);
  });

  it('keeps an empty quality list apart from none, and no raw words apart from none', () => {
    const log = open();
    log.append([
      { ts: 1, device: 'd', point: 'p', value: 1, flag: 'N', quality: [], raw: [] },
      { ts: 1, device: 'd', point: 'p', value: 1, flag: 'N' },
    ]);
    const [a, b] = log.read(0, 10) as Extract<LogRecord, { type: 'reading' }>[];
    expect(a!.quality).toEqual([]);
    expect(a!.raw).toEqual([]);
    expect('quality' in b!).toBe(false);
    expect('raw' in b!).toBe(false);
  });

  it('gives an aggregate back with its detail fields and a stored null payload as null', () => {
    const log = open();
    log.appendAggregates([{ ...syntheticAggregate(3), unit: 'mg/m3', zsAvg: 4 }]);
    log.appendEvent({ ts: 1, kind: 'x', payload: undefined });
    const [agg, ev] = log.read(0, 10);
    expect(agg).toEqual({ type: 'aggregate', seq: 1, ...syntheticAggregate(3), unit: 'mg/m3', zsAvg: 4 });
    expect(ev).toEqual({ type: 'event', seq: 2, ts: 1, kind: 'x', payload: null });
  });

  it('refuses an event, an aggregate batch or a blob with a bad time and writes nothing', () => {
    const log = open();
    expect(codeOf(() => log.appendEvent({ ts: -1, kind: 'x', payload: 1 }))).toBe('STORE_RECORD_INVALID');
    expect(
      codeOf(() => log.appendBlob({ ts: 1.5, kind: 'x', contentType: 'c', bytes: new Uint8Array() })),
    ).toBe('STORE_RECORD_INVALID');
    expect(
      codeOf(() => log.appendAggregates([syntheticAggregate(1), { ...syntheticAggregate(2), start: -1 }])),
    ).toBe('STORE_RECORD_INVALID');
    expect(codeOf(() => log.accept([{ ts: 1, device: '', point: 'p', value: 1, flag: 'N' }]))).toBe(
      'STORE_RECORD_INVALID',
    );
    expect(log.lastSeq).toBe(0);
  });

  it('keeps calling the other listeners, and commits, when one listener throws', () => {
    const log = open();
    const seen: number[] = [];
    log.onAppend(() => {
      throw new Error('listener bug');
    });
    log.onAppend((s) => seen.push(s));
    expect(log.append(syntheticBatch(0, 2))).toEqual({ first: 1, last: 2 });
    expect(log.appendBlob({ ts: 1, kind: 'k', contentType: 'c', bytes: new Uint8Array([1]) })).toBe(3);
    expect(log.appendAggregates([syntheticAggregate(1)])).toEqual({ first: 4, last: 4 });
    expect(seen).toEqual([2, 3, 4]);
  });

  it('keeps the newest time per device, counts every flag but N, and returns one cursor per uplink', () => {
    const log = open();
    log.append([
      { ts: 9, device: 'a', point: 'x', value: 1, flag: 'T' },
      { ts: 3, device: 'a', point: 'x', value: 1, flag: 'B' },
      { ts: 4, device: 'a', point: 'x', value: 1, flag: 'N' },
    ]);
    expect(log.deviceCounters().get('a')).toEqual({ readings: 3, flagged: 2, lastTs: 9 });
    const c = log.cursor('mqtt');
    expect(log.cursor('mqtt')).toBe(c);
    log.cursor('hj212');
    expect(
      log
        .allCursors()
        .map((x) => x.uplink)
        .sort(),
    ).toEqual(['hj212', 'mqtt']);
  });

  it('counts boots across restarts and reports its stats', () => {
    const a = open();
    a.append(syntheticBatch(0, 2));
    expect(a.stats()).toMatchObject({
      lastSeq: 2,
      boot: 1,
      gapEvents: 0,
      droppedRecords: 0,
      pendingReadings: 0,
      unloggedReadings: 0,
      writeFailures: 0,
    });
    expect(a.stats().bytes).toBeGreaterThan(0);
    a.close();
    a.close();
    const b = open();
    expect(b.boot).toBe(2);
    expect(b.stats().boot).toBe(2);
    expect(b.cursor('mqtt').prefix).toBe(0);
    expect(b.allCursors()).toHaveLength(1);
    b.close();
    expect(
      open()
        .allCursors()
        .map((c) => c.uplink),
    ).toEqual(['mqtt']);
  });

  it('refuses every use once closed, with STORE_CLOSED', () => {
    const log = open();
    log.close();
    const uses: (() => unknown)[] = [
      () => log.accept(syntheticBatch(0, 1)),
      () => log.retryPending(),
      () => log.appendEvent({ ts: 1, kind: 'x', payload: 1 }),
      () => log.appendAggregates([syntheticAggregate(1)]),
      () => log.appendBlob({ ts: 1, kind: 'k', contentType: 'c', bytes: new Uint8Array() }),
      () => log.read(0, 1),
      () => log.cursor('mqtt'),
      () => log.stats(),
      () => log.maintain(),
    ];
    for (const use of uses) expect(codeOf(use)).toBe('STORE_CLOSED');
  });
});

describe('readings the log cannot write yet', () => {
  /** A log at its hard limit: every further append fails with STORE_WRITE_FAILED. */
  function full(extra: Partial<Parameters<typeof openLog>[0]> = {}): { log: Log; held: number } {
    const log = open({ hardLimitBytes: 300_000, retryMs: 3_600_000, ...extra });
    let held = 0;
    for (;;) {
      try {
        log.append(syntheticBatch(held, 200));
        held += 200;
      } catch (e) {
        if (isLantianError(e, 'STORE_WRITE_FAILED')) return { log, held };
        throw e;
      }
    }
  }

  it('queues a batch instead of throwing, counts the failure, and records it in the stats', () => {
    const { log, held } = full();
    expect(log.accept(syntheticBatch(held, 200))).toBeUndefined();
    expect(log.accept(syntheticBatch(held + 200, 10))).toBeUndefined();
    expect(log.stats()).toMatchObject({ lastSeq: held, pendingReadings: 210, writeFailures: 1 });
    expect(log.retryPending()).toBe(false);
    expect(log.stats().writeFailures).toBe(2);
  });

  it('commits the queue in order once there is room again, and then takes batches directly', () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const { log, held } = full({ clock, maxAgeMs: 1000 });
    const queued = syntheticBatch(held, 100, Date.UTC(2026, 0, 2));
    expect(log.accept(queued)).toBeUndefined();
    expect(log.accept(syntheticBatch(held + 100, 1, Date.UTC(2026, 0, 2)))).toBeUndefined();
    // Everything held is delivered and old: age retention frees the file.
    log.cursor('mqtt').markDone(1, held);
    void clock.advance(2 * 86_400_000);
    log.maintain();
    expect(log.retryPending()).toBe(true);
    expect(log.stats()).toMatchObject({ lastSeq: held + 101, pendingReadings: 0 });
    const back = log.read(held, 200) as Extract<LogRecord, { type: 'reading' }>[];
    expect(back.map((r) => r.value)).toEqual([...queued.map((r) => r.value), (held + 100) / 10]);
    expect(log.accept(syntheticBatch(0, 1))).toEqual({ first: held + 102, last: held + 102 });
  });

  it('records what overflowed the queue in one unlogged event and counts it', () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const { log, held } = full({ clock, maxAgeMs: 1000, pendingMaxReadings: 100 });
    log.accept(syntheticBatch(held, 60, Date.UTC(2026, 0, 2)));
    log.accept(syntheticBatch(held + 60, 60, Date.UTC(2026, 0, 2)));
    expect(log.stats()).toMatchObject({ pendingReadings: 60, unloggedReadings: 60 });
    log.cursor('mqtt').markDone(1, held);
    void clock.advance(2 * 86_400_000);
    log.maintain();
    expect(log.retryPending()).toBe(true);
    const records = log.read(held, 1000);
    const unlogged = records.filter((r) => r.type === 'event' && r.kind === 'unlogged');
    expect(unlogged).toHaveLength(1);
    expect((unlogged[0] as { payload: { count: number; reason: string } }).payload).toMatchObject({
      count: 60,
      reason: expect.stringMatching(/^STORE_WRITE_FAILED/) as unknown,
    });
    expect(records.filter((r) => r.type === 'reading')).toHaveLength(60);
    expect(log.stats()).toMatchObject({ pendingReadings: 0, unloggedReadings: 60 });
    expect(log.retryPending()).toBe(true);
  });
});
