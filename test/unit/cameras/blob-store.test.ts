/**
 * Blobs in the log: the schema upgrade that gives them a source and a trigger keeps the blobs of
 * an older log, and the quota evicts blobs (delivered, then undelivered with a gap event) before
 * any reading.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SCHEMA_VERSION, type GapPayload } from '../../../gateway/src/store/index.js';
import { MIGRATIONS, openDatabase } from '../../../gateway/src/store/schema.js';
import { syntheticBatch } from '../../helpers/store-fixtures.js';
import { useTempLog } from '../../helpers/temp-log.js';

const temp = useTempLog();

const lean = (from: number, n: number) =>
  syntheticBatch(from, n).map(({ raw: _raw, quality: _quality, ...r }) => r);

describe('blobs in the log', () => {
  it('upgrades a log written before blobs had a source: old blobs stay readable, new ones keep theirs', () => {
    const path = temp.path();
    // The schema as it was before the blob detail column: the first two migrations.
    const older = openDatabase(path, {
      synchronous: 'normal',
      integrityCheck: 'quick',
      migrations: MIGRATIONS.slice(0, 2),
    });
    older
      .prepare('INSERT INTO blobs VALUES (?, ?, ?, ?, ?)')
      .run(1, 1000, 'snapshot', 'image/jpeg', Buffer.from([0xff, 0xd8, 0xff, 0xd9]));
    older.prepare(`UPDATE meta SET value = 2 WHERE key = 'next_seq'`).run();
    older.close();

    const log = temp.open();
    expect(log.database.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    const old = log.read(0, 10)[0]!;
    expect(old).toEqual({
      type: 'blob',
      seq: 1,
      ts: 1000,
      kind: 'snapshot',
      contentType: 'image/jpeg',
      bytes: Buffer.from([0xff, 0xd8, 0xff, 0xd9]),
    });
    const seq = log.appendBlob({
      ts: 2000,
      kind: 'snapshot',
      contentType: 'image/jpeg',
      bytes: Buffer.from([0xff, 0xd8, 1, 0xff, 0xd9]),
      source: 'gate',
      trigger: { reason: 'event', event: 1, eventKind: 'exceedance', device: 'dust', readings: [1] },
    });
    expect(seq).toBe(2);
    expect(log.latestBlob('snapshot', 'gate')).toMatchObject({
      seq: 2,
      source: 'gate',
      trigger: { reason: 'event', event: 1, eventKind: 'exceedance', device: 'dust', readings: [1] },
    });
    expect(log.latestBlob('snapshot')?.seq).toBe(2);
    expect(log.latestBlob('snapshot', 'yard')).toBeUndefined();
  });

  it('refuses a blob kind that cannot be a topic level', () => {
    const log = temp.open();
    expect(() =>
      log.appendBlob({ ts: 1, kind: 'a/b', contentType: 'c', bytes: new Uint8Array([1]) }),
    ).toThrow(expect.objectContaining({ code: 'STORE_RECORD_INVALID' }));
  });

  it('names the newest reading of each point of a device for a trigger', () => {
    const log = temp.open();
    log.append([
      { ts: 1, device: 'dust', point: 'pm10', value: 1, flag: 'N' },
      { ts: 1, device: 'dust', point: 'pm2_5', value: 1, flag: 'N' },
      { ts: 2, device: 'dust', point: 'pm10', value: 2, flag: 'N' },
      { ts: 2, device: 'other', point: 'pm10', value: 2, flag: 'N' },
    ]);
    expect(log.latestReadingSeqs('dust')).toEqual([2, 3]);
    expect(log.latestReadingSeqs('dust', 'pm10')).toEqual([3]);
    expect(log.latestReadingSeqs('nobody')).toEqual([]);
  });

  it('evicts undelivered blobs, with gap events, before any undelivered reading', () => {
    const quotaBytes = 1_000_000;
    const log = temp.open({ quotaBytes });
    log.cursor('mqtt');
    let readings = 0;
    let blobs = 0;
    // Pictures and readings interleaved until the quota has had to act several times.
    while (blobs < 60) {
      log.append(lean(readings, 200));
      readings += 200;
      log.appendBlob({ ts: blobs, kind: 'snapshot', contentType: 'image/jpeg', bytes: randomBytes(30_000) });
      blobs++;
    }
    expect(log.stats().bytes).toBeLessThanOrEqual(quotaBytes);
    const records = log.read(0, 10_000_000);
    const gaps = records.flatMap((r) =>
      r.type === 'event' && r.kind === 'gap' ? [r.payload as GapPayload] : [],
    );
    expect(gaps.length).toBeGreaterThan(0);
    expect(gaps.every((g) => g.kinds.length === 1 && g.kinds[0] === 'blob')).toBe(true);
    // Every reading is still there; only pictures went, and some recent ones are kept.
    expect(records.filter((r) => r.type === 'reading')).toHaveLength(readings);
    const kept = records.filter((r) => r.type === 'blob').length;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(blobs);
    expect(gaps.reduce((n, g) => n + g.count, 0)).toBe(blobs - kept);
  });

  it('drops delivered blobs without a gap event before delivered readings', () => {
    const quotaBytes = 1_000_000;
    const log = temp.open({ quotaBytes });
    const mqtt = log.cursor('mqtt');
    for (let i = 0; i < 20; i++)
      log.appendBlob({ ts: i, kind: 'snapshot', contentType: 'image/jpeg', bytes: randomBytes(30_000) });
    log.append(lean(0, 2000));
    mqtt.markDone(1, log.lastSeq);
    const before = log.read(0, 10_000_000).filter((r) => r.type === 'reading').length;
    for (let i = 0; i < 20; i++)
      log.appendBlob({
        ts: 100 + i,
        kind: 'snapshot',
        contentType: 'image/jpeg',
        bytes: randomBytes(30_000),
      });
    const records = log.read(0, 10_000_000);
    expect(records.some((r) => r.type === 'event' && r.kind === 'gap')).toBe(false);
    expect(records.filter((r) => r.type === 'reading')).toHaveLength(before);
    expect(records.filter((r) => r.type === 'blob' && r.ts < 100)).toHaveLength(0);
  });
});
