/**
 * The checks a record passes before the log writes it, the compact encodings of raw words and
 * quality, and the bounded queue of readings the log could not yet commit.
 */
import { describe, expect, it } from 'vitest';
import { isLantianError } from '../../../gateway/src/core/errors.js';
import type { ReadingDraft } from '../../../gateway/src/core/reading.js';
import { PendingReadings } from '../../../gateway/src/store/pending.js';
import {
  AGGREGATE_DETAIL_KEYS,
  checkAggregate,
  checkBlob,
  checkReading,
  checkTs,
  decodeQuality,
  decodeRaw,
  encodeAggregateDetail,
  encodeBlobDetail,
  encodeQuality,
  encodeRaw,
  type AggregateDraft,
  type BlobDraft,
  type BlobTrigger,
} from '../../../gateway/src/store/records.js';
import { syntheticAggregate } from '../../helpers/store-fixtures.js';

const reading = (over: Partial<ReadingDraft> = {}): ReadingDraft => ({
  ts: 1000,
  device: 'stack1',
  point: 'so2',
  value: 1.5,
  flag: 'N',
  ...over,
});

function refusal(run: () => void): { index: unknown; value: unknown } | undefined {
  try {
    run();
  } catch (e) {
    expect(isLantianError(e, 'STORE_RECORD_INVALID')).toBe(true);
    return (e as { context: { index: unknown; value: unknown } }).context;
  }
  return undefined;
}

describe('record checks', () => {
  it('accepts UTC milliseconds from 0 and refuses negatives, fractions, huge and non-numbers', () => {
    expect(refusal(() => checkTs(0, 0))).toBeUndefined();
    expect(refusal(() => checkTs(Date.UTC(2026, 0, 1), 0))).toBeUndefined();
    for (const ts of [-1, 1.5, 2 ** 53, '1000', null, Number.NaN])
      expect(
        refusal(() => checkTs(ts, 3)),
        String(ts),
      ).toEqual({ index: 3, value: ts });
  });

  it('accepts a reading with a number, a string or null, and its quality and raw words', () => {
    for (const value of [0, -2.5, 'OK', null])
      expect(refusal(() => checkReading(reading({ value }), 0))).toBeUndefined();
    expect(
      refusal(() => checkReading(reading({ flag: 'T', quality: ['out_of_range'], raw: [0, 0xffff] }), 0)),
    ).toBeUndefined();
    expect(refusal(() => checkReading(reading({ quality: [], raw: [] }), 0))).toBeUndefined();
  });

  it('refuses a reading with an empty or missing device or point, naming the record', () => {
    for (const over of [{ device: '' }, { point: '' }, { device: undefined as unknown as string }]) {
      const r = reading(over);
      expect(refusal(() => checkReading(r, 7))).toEqual({ index: 7, value: r });
    }
  });

  it('refuses values that are not finite numbers, strings or null, and bad flags', () => {
    for (const value of [Number.NaN, Infinity, -Infinity, true, undefined, {}] as unknown[])
      expect(refusal(() => checkReading(reading({ value: value as number }), 1))).toEqual({
        index: 1,
        value,
      });
    expect(refusal(() => checkReading(reading({ flag: 'X' as 'N' }), 2))).toEqual({ index: 2, value: 'X' });
    expect(refusal(() => checkReading(reading({ ts: -5 }), 2))).toEqual({ index: 2, value: -5 });
  });

  it('refuses quality that is not a list of names, and raw words outside 0..65535', () => {
    for (const quality of ['stale', [''], [1], ['stale', '']] as unknown[])
      expect(refusal(() => checkReading(reading({ quality: quality as [] }), 0))).toEqual({
        index: 0,
        value: quality,
      });
    for (const raw of [[-1], [0x10000], [1.5], 'ab', [0, Number.NaN]] as unknown[])
      expect(refusal(() => checkReading(reading({ raw: raw as number[] }), 0))).toEqual({
        index: 0,
        value: raw,
      });
  });

  it('accepts a sound aggregate of every period, null statistics and a zero count', () => {
    for (const period of ['minute', 'hour', 'day'] as const)
      expect(refusal(() => checkAggregate({ ...syntheticAggregate(1), period }, 0))).toBeUndefined();
    const empty = { ...syntheticAggregate(1), min: null, avg: null, max: null, count: 0 };
    expect(refusal(() => checkAggregate(empty, 0))).toBeUndefined();
  });

  it('refuses an aggregate with a bad start, names, period, statistic, count or flag', () => {
    const a = syntheticAggregate(1);
    const bad: [Partial<AggregateDraft>, unknown][] = [
      [{ start: -1 }, -1],
      [{ period: 'week' as 'day' }, 'week'],
      [{ min: Number.NaN }, Number.NaN],
      [{ avg: Infinity }, Infinity],
      [{ max: '3' as unknown as number }, '3'],
      [{ count: -1 }, -1],
      [{ count: 1.5 }, 1.5],
      [{ flag: 'Z' as 'N' }, 'Z'],
    ];
    for (const [over, value] of bad)
      expect(
        refusal(() => checkAggregate({ ...a, ...over }, 4)),
        JSON.stringify(over),
      ).toEqual({ index: 4, value });
    for (const over of [{ device: '' }, { point: '' }]) {
      const b = { ...a, ...over };
      expect(refusal(() => checkAggregate(b, 4))).toEqual({ index: 4, value: b });
    }
  });
});

describe('blob checks', () => {
  const blob = (over: Partial<BlobDraft> = {}): BlobDraft => ({
    ts: 1000,
    kind: 'snapshot',
    contentType: 'image/jpeg',
    bytes: new Uint8Array([0xff, 0xd8]),
    ...over,
  });

  it('accepts a kind of letters, digits, _ and -, a content type and bytes', () => {
    for (const kind of ['snapshot', 'cam_1-still', 'A9'])
      expect(refusal(() => checkBlob(blob({ kind }), 0))).toBeUndefined();
  });

  it('refuses a bad time, kind, content type or bytes, naming the record and the value', () => {
    expect(refusal(() => checkBlob(blob({ ts: -1 }), 2))).toEqual({ index: 2, value: -1 });
    // The whole kind must match: a bad character first, last or alone is refused.
    for (const kind of ['', '/snapshot', 'snapshot/', 'snap shot', '../x'])
      expect(
        refusal(() => checkBlob(blob({ kind }), 2)),
        kind,
      ).toEqual({ index: 2, value: kind });
    expect(refusal(() => checkBlob(blob({ contentType: '' }), 2))).toEqual({ index: 2, value: '' });
    const notBytes = blob({ bytes: [1, 2] as unknown as Uint8Array });
    expect(refusal(() => checkBlob(notBytes, 2))).toEqual({ index: 2, value: 'object' });
  });

  it('names the fault in its message', () => {
    const message = (run: () => void) => {
      try {
        run();
      } catch (e) {
        return (e as Error).message;
      }
      return undefined;
    };
    expect(message(() => checkBlob(blob({ kind: 'a b' }), 1))).toMatch(/record 1: blob kind must be letters/);
    expect(message(() => checkBlob(blob({ contentType: '' }), 1))).toMatch(
      /blob contentType must be non-empty/,
    );
    expect(message(() => checkBlob(blob({ bytes: 'x' as unknown as Uint8Array }), 1))).toMatch(
      /blob bytes must be bytes/,
    );
  });

  it('keeps a source and a trigger as detail, each only when given, or null', () => {
    expect(encodeBlobDetail(blob())).toBeNull();
    expect(JSON.parse(encodeBlobDetail(blob({ source: 'cam1' }))!)).toEqual({ source: 'cam1' });
    const trigger: BlobTrigger = { reason: 'event', event: 7, eventKind: 'exceedance' };
    expect(JSON.parse(encodeBlobDetail(blob({ trigger }))!)).toEqual({ trigger });
    expect(JSON.parse(encodeBlobDetail(blob({ source: 'cam1', trigger }))!)).toEqual({
      source: 'cam1',
      trigger,
    });
  });
});

describe('compact encodings', () => {
  it('stores raw words big-endian, two bytes each, and reads them back', () => {
    const b = encodeRaw([0x0102, 0xfffe, 0]);
    expect([...b!]).toEqual([1, 2, 0xff, 0xfe, 0, 0]);
    expect(decodeRaw(b!)).toEqual([0x0102, 0xfffe, 0]);
    expect(encodeRaw(undefined)).toBeNull();
    expect(encodeRaw([])!.length).toBe(0);
    expect(decodeRaw(Buffer.alloc(0))).toEqual([]);
  });

  it('stores quality as a comma list, an empty list as an empty string, none as null', () => {
    expect(encodeQuality(['stale', 'spike'])).toBe('stale,spike');
    expect(decodeQuality('stale,spike')).toEqual(['stale', 'spike']);
    expect(encodeQuality([])).toBe('');
    expect(decodeQuality('')).toEqual([]);
    expect(encodeQuality(undefined)).toBeNull();
  });

  it('keeps only the detail fields an aggregate has, or null', () => {
    const a = syntheticAggregate(1);
    const bare = Object.fromEntries(
      Object.entries(a).filter(([k]) => !(AGGREGATE_DETAIL_KEYS as readonly string[]).includes(k)),
    ) as AggregateDraft;
    expect(encodeAggregateDetail(bare)).toBeNull();
    const withDetail: AggregateDraft = { ...bare, unit: 'mg/m3', zsAvg: 2, cou: null };
    expect(JSON.parse(encodeAggregateDetail(withDetail)!)).toEqual({ unit: 'mg/m3', zsAvg: 2, cou: null });
  });
});

describe('PendingReadings', () => {
  const r = (device: string, point: string, ts: number): ReadingDraft => reading({ device, point, ts });

  it('is empty at first and queues batches in arrival order', () => {
    const p = new PendingReadings(10);
    expect(p.empty).toBe(true);
    expect(p.peek()).toBeUndefined();
    expect(p.unlogged()).toBeUndefined();
    p.push([r('a', 'x', 1), r('a', 'y', 1)], 'STORE_DISK_FULL');
    p.push([r('a', 'x', 2)], 'other');
    expect(p.empty).toBe(false);
    expect(p.status()).toEqual({ pendingReadings: 3, overflowReadings: 0 });
    expect(p.peek()!.map((d) => d.ts)).toEqual([1, 1]);
    p.shift();
    expect(p.status().pendingReadings).toBe(1);
    expect(p.peek()!.map((d) => d.ts)).toEqual([2]);
    p.shift();
    p.shift();
    expect(p.status().pendingReadings).toBe(0);
    expect(p.empty).toBe(true);
  });

  it('keeps a copy of the batch it is given', () => {
    const p = new PendingReadings(10);
    const batch = [r('a', 'x', 1)];
    p.push(batch, 'why');
    batch.push(r('a', 'x', 2));
    expect(p.peek()).toHaveLength(1);
  });

  it('holds exactly its bound, then drops the oldest batches into a per-point summary', () => {
    const p = new PendingReadings(3);
    p.push([r('b', 'x', 5), r('a', 'y', 9)], 'STORE_DISK_FULL (SQLITE_FULL)');
    p.push([r('a', 'x', 7)], 'later reason');
    expect(p.status()).toEqual({ pendingReadings: 3, overflowReadings: 0 });
    p.push([r('b', 'x', 3), r('b', 'x', 8)], 'later reason');
    // The first batch (2 readings) overflowed; 3 wait.
    expect(p.status()).toEqual({ pendingReadings: 3, overflowReadings: 2 });
    expect(p.empty).toBe(false);
    p.push([r('a', 'x', 1)], 'x');
    // The batch of a/x@7 overflowed too.
    expect(p.status()).toEqual({ pendingReadings: 3, overflowReadings: 3 });
    expect(p.unlogged()).toEqual({
      count: 3,
      firstTs: 5,
      lastTs: 9,
      devices: ['a', 'b'],
      points: [
        { device: 'a', point: 'x', count: 1, firstTs: 7, lastTs: 7 },
        { device: 'a', point: 'y', count: 1, firstTs: 9, lastTs: 9 },
        { device: 'b', point: 'x', count: 1, firstTs: 5, lastTs: 5 },
      ],
      reason: 'STORE_DISK_FULL (SQLITE_FULL)',
    });
  });

  it('counts repeated points once with their oldest and newest time, whatever the order', () => {
    const p = new PendingReadings(0);
    p.push([r('a', 'x', 5), r('a', 'x', 2), r('a', 'x', 9), r('a', 'x', 4)], 'why');
    // Nothing waits, but the overflow summary is still to be recorded.
    expect(p.peek()).toBeUndefined();
    expect(p.empty).toBe(false);
    expect(p.unlogged()!.points).toEqual([{ device: 'a', point: 'x', count: 4, firstTs: 2, lastTs: 9 }]);
    expect(p.unlogged()!.count).toBe(4);
  });

  it('sorts the summary by device, then point', () => {
    const p = new PendingReadings(0);
    p.push([r('b', 'a', 1), r('a', 'b', 1), r('a', 'a', 1)], 'why');
    expect(p.unlogged()!.points.map((q) => `${q.device}/${q.point}`)).toEqual(['a/a', 'a/b', 'b/a']);
  });

  it('forgets the summary once recorded, and the reason only when nothing waits', () => {
    const p = new PendingReadings(1);
    p.push([r('a', 'x', 1)], 'first');
    p.push([r('a', 'x', 2)], 'second');
    p.clearUnlogged();
    expect(p.unlogged()).toBeUndefined();
    expect(p.status()).toEqual({ pendingReadings: 1, overflowReadings: 0 });
    p.push([r('a', 'x', 3)], 'third');
    expect(p.unlogged()!.reason).toBe('first');
    p.shift();
    p.clearUnlogged();
    expect(p.empty).toBe(true);
    p.push([r('a', 'x', 4)], 'fourth');
    p.push([r('a', 'x', 5)], 'fifth');
    expect(p.unlogged()!.reason).toBe('fourth');
  });
});
