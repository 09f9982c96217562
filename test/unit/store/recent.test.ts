import { describe, expect, it } from 'vitest';
import { RecentRows } from '../../../gateway/src/store/recent.js';
import { syntheticAggregate, syntheticBatch } from '../../helpers/store-fixtures.js';
import { useTempLog } from '../../helpers/temp-log.js';

const rows = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => [from + i, 1000 + i, 7, i, 'N', null, null]);
const seqs = (r: unknown[][] | undefined) => r?.map((x) => x[0]);

describe('RecentRows', () => {
  it('answers only for ranges it holds completely', () => {
    const recent = new RecentRows(10);
    expect(recent.slice(0, 5, Infinity)).toBeUndefined(); // the log has not said where it stands
    recent.reset(4);
    expect(recent.slice(3, 5, Infinity)).toBeUndefined(); // seq 4 is older than what is held
    expect(recent.slice(4, 5, Infinity)).toEqual([]);
    recent.add(rows(5, 9));
    expect(seqs(recent.slice(4, 100, Infinity))).toEqual([5, 6, 7, 8, 9]);
    expect(seqs(recent.slice(6, 2, Infinity))).toEqual([7, 8]);
    expect(seqs(recent.slice(5, 100, 7))).toEqual([6, 7]);
    expect(recent.slice(9, 100, Infinity)).toEqual([]);
  });

  it('drops the oldest rows beyond its bound and no longer answers for them', () => {
    const recent = new RecentRows(10);
    recent.reset(0);
    for (let s = 1; s <= 41; s += 4) recent.add(rows(s, s + 3));
    expect(recent.size).toBe(10);
    expect(recent.slice(33, 100, Infinity)).toBeUndefined();
    expect(seqs(recent.slice(34, 100, Infinity))).toEqual([35, 36, 37, 38, 39, 40, 41, 42, 43, 44]);
    recent.reset(44);
    expect(recent.size).toBe(0);
    expect(recent.slice(40, 1, Infinity)).toBeUndefined();
  });

  it('counts what it holds, from empty to exactly full and past it', () => {
    const recent = new RecentRows(10);
    expect(recent.size).toBe(0);
    recent.reset(0);
    recent.add(rows(1, 10));
    expect(recent.size).toBe(10);
    expect(seqs(recent.slice(0, 100, Infinity))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    recent.add(rows(11, 12));
    expect(recent.size).toBe(10);
    expect(recent.slice(1, 100, Infinity)).toBeUndefined();
    expect(seqs(recent.slice(2, 100, Infinity))).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  });
  it('gives every row back as added, across the wrap of its ring, whatever the row holds', () => {
    const recent = new RecentRows(7);
    recent.reset(0);
    const variety = (seq: number): unknown[] => {
      switch (seq % 6) {
        case 0:
          return [seq, 1000 + seq, 3, -0.125 * seq, 'N', null, Buffer.from([0x41, 0x48, 0, seq]), null];
        case 1:
          return [seq, 1000 + seq, 4, 'RUN', 'C', 'device_status', null, null];
        case 2:
          return [
            seq,
            1000 + seq,
            5,
            null,
            'B',
            'timeout',
            null,
            { slots: 2, from: 900 + seq, periodMs: 100 },
          ];
        case 3:
          // Raw words longer than what is kept inline: ten words; slots missed by a good reading.
          return [
            seq,
            1000 + seq,
            6,
            1e300,
            'N',
            null,
            Buffer.alloc(20, seq),
            { slots: 1, from: 2 ** 41, periodMs: 1 },
          ];
        case 4:
          return [seq, 2 ** 52 + seq, 2 ** 31, Number.NaN, 'M', 'maintenance', Buffer.from([1, 2]), null];
        default:
          // No raw words at all, and raw words that are there but none (an empty read).
          return [seq, 1000 + seq, 7, seq, 'N', null, seq % 12 === 5 ? Buffer.alloc(0) : null, null];
      }
    };
    const all = Array.from({ length: 30 }, (_, i) => variety(i + 1));
    for (let i = 0; i < all.length; i += 4) {
      recent.add(all.slice(i, i + 4));
      const held = all.slice(Math.max(0, i + 4 - 7), i + 4);
      expect(recent.slice((held[0]![0] as number) - 1, 100, Infinity)).toEqual(held);
    }
  });
});

describe('reading what was just committed', () => {
  const { open } = useTempLog();

  it('makes one missed-slots object for the rows of a poll in a slice, and new ones for each slice', () => {
    const recent = new RecentRows(16);
    recent.reset(0);
    const m = (from: number, slots = 2, periodMs = 100) => ({ slots, from, periodMs });
    // After the poll at 800 and its repeat, rows that differ from the row before in one number.
    const held = [m(800), m(800), m(800), null, m(900), m(900), m(800), m(800, 3), m(800, 3, 250)];
    recent.add(held.map((missed, i) => [i + 1, 1000, 7, i, 'N', null, null, missed]));
    const first = recent.slice(0, 10, Infinity)!.map((r) => r[7]);
    expect(first).toEqual(held);
    expect(first[1]).toBe(first[0]);
    expect(first[2]).toBe(first[0]);
    expect(first[5]).toBe(first[4]);
    expect(first[4]).not.toBe(first[0]);
    expect(first[6]).not.toBe(first[0]);
    expect(new Set(first.slice(6)).size).toBe(3);
    const second = recent.slice(0, 10, Infinity)!.map((r) => r[7]);
    expect(second).toEqual(first);
    expect(second[0]).not.toBe(first[0]);
  });

  it('gives the records a read from the file gives, across readings, an event and aggregates', () => {
    const log = open();
    log.append(syntheticBatch(0, 300));
    log.append([{ ...syntheticBatch(300, 1)[0]!, value: 'RUN' }]);
    log.append(syntheticBatch(301, 50));
    log.appendEvent({ ts: Date.UTC(2026, 0, 1), kind: 'alarm', payload: { code: 7 } });
    log.append(syntheticBatch(351, 120));
    log.appendAggregates([syntheticAggregate(1)]);
    log.append(syntheticBatch(471, 40));
    const windows: [number, number, number?][] = [
      [0, 1000],
      [100, 50],
      [299, 3, 302],
      [350, 10],
      [352, 500],
      [470, 5],
      [473, 100, 490],
      [log.lastSeq, 10],
    ];
    const fromMemory = windows.map(([after, limit, until]) => log.read(after, limit, until));
    expect(fromMemory[0]).toHaveLength(log.lastSeq);
    log.close();
    // A log just opened holds nothing in memory: everything comes from the file.
    const reopened = open();
    const fromFile = windows.map(([after, limit, until]) => reopened.read(after, limit, until));
    expect(fromMemory).toEqual(fromFile);
  });

  it('never answers from memory across an eviction and its gap event', () => {
    const log = open({ quotaBytes: 1024 * 1024 });
    let i = 0;
    // Nothing delivers: the quota evicts undelivered readings, with gap events, as it fills.
    while (log.stats().gapEvents === 0) {
      log.append(syntheticBatch(i, 500));
      i += 500;
    }
    // The eviction's gap event is among the newest records, between readings held in memory.
    const after = log.lastSeq - 2_000;
    const held = log.read(after, 50_000);
    expect(held.some((r) => r.type === 'event' && r.kind === 'gap')).toBe(true);
    log.close();
    expect(held).toEqual(open({ quotaBytes: 1024 * 1024 }).read(after, 50_000));
  });
});
