import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../gateway/src/core/clock.js';
import {
  openLog,
  RangeSet,
  type GapPayload,
  type Log,
  type LogRecord,
} from '../../../gateway/src/store/index.js';
import { syntheticAggregate, syntheticBatch, tempDir, type TempDir } from '../../helpers/store-fixtures.js';

let tmp: TempDir;
let log: Log | undefined;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => {
  log?.close();
  tmp.remove();
});

const all = (l: Log): LogRecord[] => l.read(0, 10_000_000);
const gaps = (records: LogRecord[]) =>
  records.flatMap((r) => (r.type === 'event' && r.kind === 'gap' ? [r.payload as GapPayload] : []));

/** Synthetic readings without `raw` and `quality`, as a log of bare values holds them. */
const leanBatch = (from: number, n: number) =>
  syntheticBatch(from, n).map(({ raw: _raw, quality: _quality, ...r }) => r);

describe('quota retention', () => {
  it('evicts what every uplink has first, then raw readings with a gap event, and keeps aggregates and events', () => {
    // Bare readings (no register words or reasons), so the mqtt-only range spans several eviction chunks.
    const syntheticBatch = (from: number, n: number) => leanBatch(from, n);
    const quotaBytes = 1_000_000;
    log = openLog({ path: tmp.file('log.db'), quotaBytes });
    const mqtt = log.cursor('mqtt');
    const hj212 = log.cursor('hj212');
    log.append(syntheticBatch(0, 5000));
    log.appendAggregates([syntheticAggregate(2)]);
    log.appendEvent({ ts: 1, kind: 'alarm', payload: { level: 2 } });
    mqtt.markDone(1, 5002);
    hj212.markDone(1, 3000);
    let produced = 5000;
    let maxBytes = 0;
    while (produced < 80_000) {
      log.append(syntheticBatch(produced, 500));
      produced += 500;
      maxBytes = Math.max(maxBytes, log.stats().bytes);
    }
    expect(maxBytes).toBeLessThanOrEqual(quotaBytes);

    const records = all(log);
    const present = new RangeSet();
    for (const r of records) present.add(r.seq);
    const announced = new RangeSet();
    const found = gaps(records);
    for (const g of found) announced.add(g.from, g.to);

    // Delivered to both uplinks (1..3000) went without any gap event.
    expect(found.length).toBeGreaterThan(0);
    expect(Math.min(...found.map((g) => g.from))).toBeGreaterThan(3000);
    expect(found.every((g) => g.reason === 'quota' && g.kinds.join() === 'reading')).toBe(true);
    // The range only mqtt had names hj212 alone; later ranges name both.
    expect(found[0]!.uplinks).toEqual(['hj212']);
    expect(found.at(-1)!.uplinks.sort()).toEqual(['hj212', 'mqtt']);
    // Every record missing above the delivered prefix is covered by a gap event.
    for (const [a, b] of present.missingIn(3001, log.lastSeq))
      expect(announced.countIn(a, b)).toBe(b - a + 1);
    // The aggregate and the alarm, older than evicted readings, are still there.
    expect(records.some((r) => r.type === 'aggregate')).toBe(true);
    expect(records.some((r) => r.type === 'event' && r.kind === 'alarm')).toBe(true);
    // Evicted ranges count as done for the cursors; counters add up.
    const stats = log.stats();
    expect(stats.gapEvents).toBe(found.length);
    expect(stats.droppedRecords).toBe(found.reduce((n, g) => n + g.count, 0));
    expect(mqtt.isDone(found.at(-1)!.to)).toBe(true);
    expect(hj212.isDone(found[0]!.from)).toBe(true);
  });

  it('evicts undelivered aggregates only when no raw reading is left', () => {
    // Room for the 3000 aggregates and the readings below once the WAL has its share.
    const quotaBytes = 600_000;
    log = openLog({ path: tmp.file('log.db'), quotaBytes });
    log.cursor('mqtt');
    const agg = (i: number) => syntheticAggregate(i, `p${i % 50}`);
    let i = 0;
    for (; i < 3000; i++) log.appendAggregates([agg(i)]);
    log.append(syntheticBatch(0, 2000));
    // Push past the quota with aggregates alone: the readings must go before any aggregate.
    const firstGapSeq = () => gaps(all(log!))[0];
    while (log.stats().gapEvents === 0) log.appendAggregates(Array.from({ length: 100 }, () => agg(i++)));
    expect(firstGapSeq()!.kinds).toEqual(['reading']);
    // Read the gap events only when a new one was written.
    let seen = 0;
    while (seen === log.stats().gapEvents || !gaps(all(log)).some((g) => g.kinds.includes('aggregate'))) {
      seen = log.stats().gapEvents;
      log.appendAggregates(Array.from({ length: 100 }, () => agg(i++)));
    }
    const records = all(log);
    const aggGap = gaps(records).find((g) => g.kinds.includes('aggregate'))!;
    // By the time aggregates went, every raw reading had gone before them.
    expect(records.some((r) => r.type === 'reading' && r.seq < aggGap.from)).toBe(false);
  }, 60_000);
});

describe('age retention', () => {
  it('deletes only delivered records older than the limit and announces nothing', () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 2));
    log = openLog({ path: tmp.file('log.db'), maxAgeMs: 3_600_000, clock });
    const c = log.cursor('mqtt');
    log.append(syntheticBatch(0, 1000, clock.now() - 7_200_000)); // two hours old
    log.append(syntheticBatch(0, 1000, clock.now())); // fresh
    c.markDone(1, 1500);
    log.maintain();
    const records = all(log);
    // Old and delivered: gone. Fresh (even if delivered) and undelivered: kept.
    expect(records[0]!.seq).toBe(1001);
    expect(records).toHaveLength(1000);
    expect(gaps(records)).toEqual([]);
  });
});
