import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../gateway/src/core/clock.js';
import { openLog, type LogRecord } from '../../../gateway/src/store/index.js';
import { codeOf, syntheticAggregate, syntheticBatch } from '../../helpers/store-fixtures.js';
import { useTempLog } from '../../helpers/temp-log.js';

const { open, path } = useTempLog();

describe('the log', () => {
  it('gives consecutive sequence numbers that continue after a restart', () => {
    const log = open();
    expect(log.append(syntheticBatch(0, 10))).toEqual({ first: 1, last: 10 });
    expect(log.appendEvent({ ts: 1, kind: 'alarm', payload: { x: 1 } })).toBe(11);
    log.close();
    const again = open();
    expect(again.lastSeq).toBe(11);
    expect(again.append(syntheticBatch(10, 5))).toEqual({ first: 12, last: 16 });
  });

  it('starts a new log at the given sequence number and ignores it for an existing one', () => {
    const log = open({ startSeq: 5000 });
    expect(log.append(syntheticBatch(0, 2))).toEqual({ first: 5000, last: 5001 });
    const id = log.logId;
    expect(id).toMatch(/^[0-9a-f]{16}$/);
    log.close();
    const again = open({ startSeq: 1 });
    expect(again.append(syntheticBatch(0, 1)).first).toBe(5002);
    expect(again.logId).toBe(id);
  });

  it('holds as many of the newest readings in memory as `recentRows` says', () => {
    const small = open({ path: `${path()}-small`, recentRows: 1024 });
    const large = open({ path: `${path()}-large` });
    for (const log of [small, large]) {
      log.append(syntheticBatch(0, 3000));
      // Take the rows from under the log: what it still reads comes from its memory.
      log.database.prepare('DELETE FROM readings').run();
    }
    const last = small.lastSeq;
    expect(small.read(last - 1024, 5000).map((r) => r.seq)).toEqual(
      Array.from({ length: 1024 }, (_, i) => last - 1023 + i),
    );
    // One row older than its 1 024 is read from the file, where nothing is left.
    expect(small.read(last - 1025, 5000)).toEqual([]);
    // The default holds all 3 000.
    expect(large.read(0, 5000)).toHaveLength(3000);
  });

  it('never reuses a sequence number, even when every record was deleted', () => {
    const log = open({ maxAgeMs: 1000, clock: new ManualClock(Date.UTC(2030, 0, 1)) });
    log.append(syntheticBatch(0, 100));
    log.cursor('mqtt').markDone(1, 100);
    log.maintain();
    expect(log.read(0, 1000)).toEqual([]);
    log.close();
    expect(open().append(syntheticBatch(0, 1)).first).toBe(101);
  });

  it('writes a batch of any length, many rows to a statement, exactly as row by row', () => {
    // 32 rows go to one INSERT: lengths around and across that bound, mixed kinds of value.
    const mixed = (start: number, count: number) =>
      syntheticBatch(start, count).map((r, i) =>
        i % 7 === 3
          ? {
              ...r,
              value: null,
              flag: 'B' as const,
              quality: ['timeout' as const],
              missed: { slots: 2, from: r.ts - 300, periodMs: 100 },
            }
          : i % 5 === 2
            ? { ...r, value: `s${i}` }
            : r,
      );
    const batches = [1, 31, 32, 33, 64, 75, 200].map((n, k) => mixed(k * 1000, n));
    const log = open();
    for (const b of batches) log.append(b);
    log.close();
    // Read back from the file by a fresh log, not from the rows held after the commit.
    const records = open().read(0, 10_000);
    const sent = batches.flat();
    expect(records).toHaveLength(sent.length);
    records.forEach((r, i) => {
      expect(r).toEqual({ type: 'reading', seq: i + 1, ...sent[i] });
    });
  });

  it('keeps missed slots compact in the file, reads the JSON of older rows, and names an unreadable one', () => {
    const log = open();
    const slots = (slots: number, from: number, periodMs: number) => ({ slots, from, periodMs });
    const poll = (ts: number, missed: ReturnType<typeof slots>) =>
      ['so2', 'nox', 'o2'].map((point) => ({
        ts,
        device: 'stack1',
        point,
        value: 1,
        flag: 'N' as const,
        missed,
      }));
    // One poll's readings share their slots; the next poll has others; the due time may follow
    // the reading's (a clock set back) and may be far from it.
    const polls = [
      poll(10_000, slots(3, 9_700, 100)),
      poll(10_400, slots(1, 10_300, 100)),
      poll(20_000, slots(2, 20_500, 250)),
      poll(Number.MAX_SAFE_INTEGER, slots(7, 0, 60_000)),
      poll(25_000, slots(1, 24_999, 1)),
    ];
    for (const p of polls) log.append(p);
    // Two devices polled at the same time with other slots; one object on readings of two times.
    const shared = slots(2, 40_000, 100);
    log.append([
      { ts: 40_300, device: 'a', point: 'x', value: 1, flag: 'N', missed: slots(3, 40_000, 100) },
      { ts: 40_300, device: 'b', point: 'x', value: 1, flag: 'N', missed: slots(1, 40_200, 100) },
      { ts: 40_300, device: 'c', point: 'x', value: 1, flag: 'N', missed: shared },
      { ts: 40_400, device: 'c', point: 'y', value: 1, flag: 'N', missed: shared },
    ]);
    // Rows inserted one at a time and 32 to a statement write the same text.
    log.append(Array.from({ length: 40 }, () => poll(30_000, slots(2, 29_800, 100))[0]!));
    const text = log.database.prepare('SELECT missed FROM readings ORDER BY seq').pluck().all();
    expect(text.slice(0, 15)).toEqual([
      ...Array(3).fill('3,300,100'),
      ...Array(3).fill('1,100,100'),
      ...Array(3).fill('2,-500,250'),
      ...Array(3).fill(`7,${Number.MAX_SAFE_INTEGER},60000`),
      ...Array(3).fill('1,1,1'),
    ]);
    expect(text.slice(15, 19)).toEqual(['3,300,100', '1,100,100', '2,300,100', '2,400,100']);
    expect(new Set(text.slice(19))).toEqual(new Set(['2,200,100']));
    // A row of an older gateway, as it wrote them.
    log.database
      .prepare(
        `INSERT INTO readings (seq, ts, point_id, value, flag, missed) VALUES (100, 5000, 1, 2, 'N', ?)`,
      )
      .run('{"slots":4,"from":4600,"periodMs":100}');
    log.close();
    // From the file, by a fresh log.
    const again = open();
    const records = again.read(0, 200);
    expect(records.slice(0, 15).map((r) => r.type === 'reading' && r.missed)).toEqual(
      polls.flat().map((r) => r.missed),
    );
    expect(records.find((r) => r.seq === 100)).toMatchObject({ ts: 5000, missed: slots(4, 4600, 100) });
    for (const bad of [
      '',
      '3',
      '3,,100',
      '3,1,',
      ',1,100',
      'x,1,100',
      '3, 1,100',
      '3,1,100 ',
      '-3,1,100',
      '0,1,100',
      '3,1,0',
      '3,1.5,100',
      '99999999999999999,1,100',
      '{"slots":1',
      '{"slots":1}',
      '{"slots":1,"from":5,"periodMs":0}',
    ]) {
      again.database.prepare('UPDATE readings SET missed = ? WHERE seq = 100').run(bad);
      let err: unknown;
      try {
        again.read(0, 200);
      } catch (e) {
        err = e;
      }
      expect(err, bad).toMatchObject({ code: 'STORE_CORRUPT', context: { seq: 100, missed: bad } });
      expect((err as Error).message, bad).toContain('reading 100');
    }
  });

  it('reads values for processing: every record of read, its readings without raw words and quality', () => {
    const log = open();
    const polled = syntheticBatch(0, 40).map((r, i) =>
      i % 3 === 0
        ? {
            ...r,
            raw: [i, 0xffff],
            quality: ['out_of_range' as const],
            missed: { slots: 1, from: r.ts - 100, periodMs: 100 },
          }
        : { ...r, raw: Array.from({ length: 6 }, (_, k) => k + i) },
    );
    log.append(polled.slice(0, 20));
    log.appendEvent({ ts: 5, kind: 'alarm', payload: { x: 1 } });
    log.appendAggregates([syntheticAggregate(3)]);
    log.append(polled.slice(20));
    const lean = (records: LogRecord[]) =>
      records.map((r) => {
        if (r.type !== 'reading') return r;
        const { raw: _raw, quality: _quality, ...rest } = r;
        return rest;
      });
    const whole = log.read(0, 100);
    expect(whole.filter((r) => r.type === 'reading' && r.raw !== undefined)).toHaveLength(40);
    // From the recent rows, then from the file by a fresh log; pages and bounds as read's.
    expect(log.readValues(0, 100)).toEqual(lean(whole));
    expect(log.readValues(10, 5)).toEqual(lean(log.read(10, 5)));
    log.close();
    const again = open();
    expect(again.read(0, 100)).toEqual(whole);
    expect(again.readValues(0, 100)).toEqual(lean(whole));
    expect(again.readValues(30, 3)).toEqual(lean(whole).slice(30, 33));
  });

  it('gives back every field exactly as appended, all kinds in sequence order', () => {
    const log = open();
    log.append([
      { ts: 1000, device: 'stack1', point: 'so2', value: 12.5, flag: 'N', raw: [0x4148, 0x0000] },
      { ts: 1000, device: 'stack1', point: 'status', value: '5', flag: 'C', quality: ['device_status'] },
    ]);
    log.appendEvent({ ts: 1001, kind: 'config_change', payload: { by: 'installer' } });
    log.appendAggregates([syntheticAggregate(2)]);
    log.appendBlob({ ts: 1002, kind: 'snapshot', contentType: 'image/jpeg', bytes: Buffer.from([1, 2, 3]) });
    const timedOut = {
      ts: 1003,
      device: 'dust1',
      point: 'pm10',
      value: null,
      flag: 'B' as const,
      quality: ['timeout' as const],
      missed: { slots: 3, from: 700, periodMs: 100 },
    };
    log.append([timedOut]);
    const records = log.read(0, 100);
    expect(records.map((r) => [r.seq, r.type])).toEqual([
      [1, 'reading'],
      [2, 'reading'],
      [3, 'event'],
      [4, 'aggregate'],
      [5, 'blob'],
      [6, 'reading'],
    ]);
    expect(records[0]).toEqual({
      type: 'reading',
      seq: 1,
      ts: 1000,
      device: 'stack1',
      point: 'so2',
      value: 12.5,
      flag: 'N',
      raw: [0x4148, 0],
    });
    expect(records[1]).toMatchObject({ value: '5', flag: 'C', quality: ['device_status'] });
    expect(records[2]).toMatchObject({ kind: 'config_change', payload: { by: 'installer' } });
    expect(records[3]).toMatchObject({
      device: 'stack1',
      point: 'so2',
      period: 'minute',
      avg: 2,
      count: 60,
      start: 120_000,
    });
    expect(Buffer.from((records[4] as Extract<LogRecord, { type: 'blob' }>).bytes)).toEqual(
      Buffer.from([1, 2, 3]),
    );
    expect(records[5]).toEqual({ type: 'reading', seq: 6, ...timedOut });
    expect(log.read(2, 2).map((r) => r.seq)).toEqual([3, 4]);
    expect(log.read(0, 100, 3).map((r) => r.seq)).toEqual([1, 2, 3]);
  });

  it('refuses a batch with a bad record and writes none of it', () => {
    const log = open();
    log.append(syntheticBatch(0, 3));
    const bad = [
      ...syntheticBatch(3, 2),
      { ts: 1, device: 'd', point: 'p', value: Number.NaN, flag: 'N' as const },
    ];
    expect(codeOf(() => log.append(bad))).toBe('STORE_RECORD_INVALID');
    expect(codeOf(() => log.append([{ ts: 1, device: 'd', point: 'p', value: 1, flag: 'X' as never }]))).toBe(
      'STORE_RECORD_INVALID',
    );
    expect(
      codeOf(() => log.append([{ ts: 1, device: 'd', point: 'p', value: 1, flag: 'N', raw: [70000] }])),
    ).toBe('STORE_RECORD_INVALID');
    for (const missed of [
      { slots: 0, from: 1, periodMs: 100 },
      { slots: 1.5, from: 1, periodMs: 100 },
      { slots: 1, from: -1, periodMs: 100 },
      { slots: 1, from: 1, periodMs: 0 },
      { slots: 1, periodMs: 100 },
      null,
    ]) {
      const r = { ts: 1, device: 'd', point: 'p', value: 1, flag: 'N' as const, missed: missed as never };
      expect(
        codeOf(() => log.append([r])),
        JSON.stringify(missed),
      ).toBe('STORE_RECORD_INVALID');
    }
    expect(log.lastSeq).toBe(3);
    expect(log.append(syntheticBatch(5, 1)).first).toBe(4);
  });

  it('fails a write beyond the hard limit with STORE_WRITE_FAILED and stays usable', () => {
    const log = open({ hardLimitBytes: 400_000 });
    let i = 0;
    let code: string | undefined;
    while (code === undefined && i < 100_000) {
      code = codeOf(() => log.append(syntheticBatch(i, 500)));
      if (code === undefined) i += 500;
    }
    expect(code).toBe('STORE_WRITE_FAILED');
    // Nothing of the failed batch was committed; what was committed is intact.
    expect(log.lastSeq).toBe(i);
    const records = log.read(i - 2, 10);
    expect(records.map((r) => r.seq)).toEqual([i - 1, i]);
    expect(log.append([]).last).toBe(i);
  });

  it('counts readings per device for the health report', () => {
    const log = open();
    log.append([
      { ts: 5, device: 'a', point: 'x', value: 1, flag: 'N' },
      { ts: 7, device: 'a', point: 'y', value: 1, flag: 'D' },
      { ts: 6, device: 'b', point: 'x', value: 1, flag: 'N' },
    ]);
    expect(log.deviceCounters().get('a')).toEqual({ readings: 2, flagged: 1, lastTs: 7 });
    expect(log.deviceCounters().get('b')).toEqual({ readings: 1, flagged: 0, lastTs: 6 });
    // Devices in turn, within a batch and across batches.
    log.append([
      { ts: 8, device: 'b', point: 'y', value: 1, flag: 'B' },
      { ts: 9, device: 'a', point: 'x', value: 1, flag: 'N' },
      { ts: 9, device: 'c', point: 'x', value: 1, flag: 'N' },
      { ts: 10, device: 'a', point: 'y', value: 1, flag: 'N' },
    ]);
    log.append([{ ts: 11, device: 'a', point: 'x', value: 1, flag: 'T' }]);
    expect(Object.fromEntries(log.deviceCounters())).toEqual({
      a: { readings: 5, flagged: 2, lastTs: 11 },
      b: { readings: 2, flagged: 1, lastTs: 8 },
      c: { readings: 1, flagged: 0, lastTs: 9 },
    });
  });

  it('tells every append listener the new last sequence number', () => {
    const log = open();
    const seen: number[] = [];
    const off = log.onAppend((s) => seen.push(s));
    log.append(syntheticBatch(0, 4));
    log.appendEvent({ ts: 1, kind: 'alarm', payload: null });
    off();
    log.append(syntheticBatch(4, 1));
    expect(seen).toEqual([4, 5]);
  });

  it('refuses use after close and a second opener of the same file', () => {
    const log = open();
    expect(codeOf(() => openLog({ path: path() }))).toBe('STORE_LOCKED');
    log.close();
    expect(codeOf(() => log.append(syntheticBatch(0, 1)))).toBe('STORE_CLOSED');
  });
});

describe('cursors', () => {
  it('keep acknowledged ranges above the prefix and merge them when the gap fills, across restarts', () => {
    const log = open();
    log.append(syntheticBatch(0, 100));
    const c = log.cursor('mqtt');
    c.markDone(51, 60);
    c.markDone(1, 20);
    expect(c.snapshot()).toEqual({ uplink: 'mqtt', prefix: 20, ranges: [[51, 60]] });
    log.close();
    const again = open().cursor('mqtt');
    expect(again.snapshot()).toEqual({ uplink: 'mqtt', prefix: 20, ranges: [[51, 60]] });
    again.markDone(21, 50);
    expect(again.snapshot()).toEqual({ uplink: 'mqtt', prefix: 60, ranges: [] });
    expect(again.isDone(60)).toBe(true);
    expect(again.isDone(61)).toBe(false);
  });
});
