/**
 * Retention at its edges: the WAL's share of a quota, how often age retention runs, the exact
 * age and delivery bounds, every kind of record, and a log no uplink has read yet.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../gateway/src/core/clock.js';
import type { Log } from '../../../gateway/src/store/index.js';
import { syntheticAggregate, syntheticBatch } from '../../helpers/store-fixtures.js';
import { useTempLog } from '../../helpers/temp-log.js';

const { open, path } = useTempLog();
/** A log file of its own for each case of a loop. */
const file = (name: string) => path().replace(/log\.db$/, `${name}.db`);
const T0 = Date.UTC(2026, 0, 2);
const HOUR = 3_600_000;

const seqs = (log: Log) => log.read(0, 1_000_000).map((r) => r.seq);
const pragma = (log: Log, name: string): unknown => log.database.pragma(name, { simple: true });

describe('the WAL under a quota', () => {
  it('gets a tenth of the quota, at least 16 and at most 1000 pages, checkpointed at that size', () => {
    for (const [quotaBytes, pages] of [
      [100_000, 16],
      [1_000_000, 24],
      [10_000_000, 244],
      [1_000_000_000, 1000],
    ] as const) {
      const log = open({ path: file(`quota-${quotaBytes}`), quotaBytes });
      const pageSize = pragma(log, 'page_size') as number;
      expect(pageSize).toBe(4096);
      expect([quotaBytes, pragma(log, 'wal_autocheckpoint')]).toEqual([quotaBytes, pages]);
      expect([quotaBytes, pragma(log, 'journal_size_limit')]).toEqual([quotaBytes, pages * pageSize]);
      log.close();
    }
  });

  it('keeps the defaults without a quota', () => {
    const log = open();
    expect(pragma(log, 'wal_autocheckpoint')).toBe(1000);
    expect(pragma(log, 'journal_size_limit')).toBe(4 * 1024 * 1024);
  });
});

describe('age retention', () => {
  it('runs after appends at most every ageCheckEveryMs, once a minute when not told otherwise', () => {
    for (const [every, extra] of [
      [10_000, { ageCheckEveryMs: 10_000 }],
      [60_000, {}],
    ] as const) {
      const clock = new ManualClock(T0);
      const log = open({ path: file(`every-${every}`), clock, maxAgeMs: HOUR, ...extra });
      log.append(syntheticBatch(0, 10, T0 - 2 * HOUR));
      log.cursor('mqtt').markDone(1, 10);
      void clock.advance(every - 1);
      log.append(syntheticBatch(10, 1, clock.now()));
      expect([every, seqs(log).length]).toEqual([every, 11]);
      void clock.advance(1);
      log.append(syntheticBatch(11, 1, clock.now()));
      expect([every, seqs(log)]).toEqual([every, [11, 12]]);
      log.close();
    }
  });

  it('runs on maintain() at once, however recently it ran', () => {
    const clock = new ManualClock(T0);
    const log = open({ clock, maxAgeMs: HOUR, ageCheckEveryMs: 10_000 });
    log.append(syntheticBatch(0, 10, T0 - 2 * HOUR));
    log.cursor('mqtt').markDone(1, 10);
    log.maintain();
    expect(seqs(log)).toEqual([]);
  });

  it('deletes what is older than the limit, not what is exactly as old', () => {
    const clock = new ManualClock(T0);
    const log = open({ clock, maxAgeMs: HOUR });
    log.append([
      ...syntheticBatch(0, 3, T0 - HOUR - 1).map((r) => ({ ...r, ts: T0 - HOUR - 1 })),
      ...syntheticBatch(3, 3, T0).map((r) => ({ ...r, ts: T0 - HOUR })),
    ]);
    log.cursor('mqtt').markDone(1, 6);
    log.maintain();
    expect(seqs(log)).toEqual([4, 5, 6]);
    expect(log.rowCount).toBe(3);
  });

  it('deletes exactly through what the slowest uplink has delivered', () => {
    for (const delivered of [1, 37, 63, 99, 100]) {
      const clock = new ManualClock(T0);
      const log = open({ path: file(`delivered-${delivered}`), clock, maxAgeMs: HOUR });
      log.append(syntheticBatch(0, 100, T0 - 2 * HOUR));
      log.cursor('mqtt').markDone(1, 100);
      log.cursor('hj212').markDone(1, delivered);
      log.maintain();
      expect([delivered, seqs(log)[0]]).toEqual([delivered, delivered === 100 ? undefined : delivered + 1]);
      expect(log.rowCount).toBe(100 - delivered);
      log.close();
    }
  });

  it('deletes old delivered events, aggregates (by their start) and blobs too', () => {
    const clock = new ManualClock(T0);
    const log = open({ clock, maxAgeMs: HOUR });
    const old = T0 - 2 * HOUR;
    log.appendEvent({ ts: old, kind: 'alarm', payload: 1 }); // 1
    log.appendAggregates([{ ...syntheticAggregate(1), start: old }]); // 2
    log.appendBlob({ ts: old, kind: 'snapshot', contentType: 'image/png', bytes: new Uint8Array([1]) }); // 3
    log.appendEvent({ ts: T0, kind: 'alarm', payload: 2 }); // 4
    log.appendAggregates([{ ...syntheticAggregate(2), start: T0 }]); // 5
    log.cursor('mqtt').markDone(1, 5);
    log.maintain();
    expect(seqs(log)).toEqual([4, 5]);
    expect(log.rowCount).toBe(2);
  });

  it('keeps everything while no uplink has a cursor', () => {
    const clock = new ManualClock(T0);
    const log = open({ clock, maxAgeMs: HOUR });
    log.append(syntheticBatch(0, 20, T0 - 2 * HOUR));
    log.maintain();
    expect(seqs(log)).toHaveLength(20);
  });
});
