import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLantianError } from '../../../gateway/src/core/errors.js';
import type { ReadingDraft } from '../../../gateway/src/core/reading.js';
import { openLog, type LogRecord } from '../../../gateway/src/store/index.js';
import { buildHealth } from '../../../gateway/src/uplink/mqtt/health.js';
import { resolveOptions } from '../../../gateway/src/uplink/mqtt/options.js';
import { mountSmallDisk, whenLog, type SmallDisk } from '../../helpers/store-disk.js';
import { syntheticBatch } from '../../helpers/store-fixtures.js';

const disk = mountSmallDisk(2 * 1024 * 1024);
const reason = typeof disk === 'string' ? disk : '';
let small: SmallDisk;
beforeAll(() => {
  if (typeof disk !== 'string') small = disk;
});
afterAll(() => {
  if (typeof disk !== 'string') disk.unmount();
});

/** What an `unlogged` event must say about these readings, computed independently. */
function summary(readings: readonly ReadingDraft[]) {
  const byPoint = new Map<
    string,
    { device: string; point: string; count: number; firstTs: number; lastTs: number }
  >();
  for (const r of readings) {
    const key = `${r.device}/${r.point}`;
    const p = byPoint.get(key) ?? {
      device: r.device,
      point: r.point,
      count: 0,
      firstTs: Infinity,
      lastTs: 0,
    };
    p.count++;
    p.firstTs = Math.min(p.firstTs, r.ts);
    p.lastTs = Math.max(p.lastTs, r.ts);
    byPoint.set(key, p);
  }
  const points = [...byPoint.values()].sort(
    (a, b) => a.device.localeCompare(b.device) || a.point.localeCompare(b.point),
  );
  return {
    count: readings.length,
    firstTs: Math.min(...readings.map((r) => r.ts)),
    lastTs: Math.max(...readings.map((r) => r.ts)),
    devices: [...new Set(points.map((p) => p.device))],
    points,
  };
}

const digest = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

describe.skipIf(reason !== '')(`the log on a full disk ${reason}`, () => {
  it('queues readings while the disk is full, records exactly what overflowed, and catches up by itself', async () => {
    const path = small.file('log.db');
    const log = openLog({ path, pendingMaxReadings: 500, retryMs: 50 });
    try {
      const cursor = log.cursor('mqtt');
      let next = 0;
      const batch = () => {
        const b = syntheticBatch(next, 50);
        next += 50;
        return b;
      };
      for (let i = 0; i < 5; i++) expect(log.accept(batch())).toBeDefined();
      const committedBefore = log.lastSeq;

      small.fill();
      // The WAL may still have room for a few batches; the first refused one starts the queue.
      const queued: ReadingDraft[][] = [];
      while (queued.length === 0) {
        const b = batch();
        if (log.accept(b) === undefined) queued.push(b);
      }
      const firstQueuedIndex = queued[0]![0]!.ts;
      for (let i = 0; i < 29; i++) {
        const b = batch();
        expect(log.accept(b)).toBeUndefined();
        queued.push(b);
      }
      // An acknowledgement arriving now (the publisher's PUBACK handler) must not throw.
      expect(() => cursor.markDone(1, committedBefore)).not.toThrow();
      expect(cursor.isSaved).toBe(false);
      expect(cursor.prefix).toBe(committedBefore);

      // 30 batches of 50 against a bound of 500: the 20 oldest overflowed, the 10 newest wait.
      const overflowed = queued.slice(0, 20).flat();
      const waiting = queued.slice(20).flat();
      const stats = log.stats();
      expect(stats.pendingReadings).toBe(waiting.length);
      expect(stats.unloggedReadings).toBe(overflowed.length);
      expect(stats.writeFailures).toBeGreaterThan(0);
      expect(firstQueuedIndex).toBe(overflowed[0]!.ts);
      // The platform sees the same counts in the retained health message.
      const status = {
        connected: true,
        lane: 'live',
        inFlight: 0,
        ackedThrough: 0,
        backlog: 0,
        publishErrors: 0,
        reconnects: 0,
        refusedLogins: 0,
      } as const;
      const health = buildHealth(
        log,
        cursor,
        status,
        resolveOptions({ url: 'mqtt://127.0.0.1', gatewayId: 'gw1' }),
        Date.now(),
      );
      expect(health.counters).toMatchObject({
        pendingReadings: waiting.length,
        unloggedReadings: overflowed.length,
        logWriteFailures: stats.writeFailures,
      });

      small.release();
      await whenLog(
        log,
        () => log.stats().pendingReadings === 0 && log.lastSeq > committedBefore + waiting.length,
      );

      const records = log.read(committedBefore, 10_000);
      const events = records.filter((r) => r.type === 'event');
      expect(events).toHaveLength(1);
      const unlogged = events[0] as Extract<LogRecord, { type: 'event' }>;
      expect(unlogged.kind).toBe('unlogged');
      expect(unlogged.payload).toEqual({ ...summary(overflowed), reason: 'STORE_WRITE_FAILED SQLITE_FULL' });
      // The queued readings were committed in order, after whatever the WAL still held.
      const readings = records.filter((r) => r.type === 'reading');
      expect(readings.slice(-waiting.length)).toMatchObject(waiting);
      // Seqs stay consecutive: nothing was given a number and then lost.
      expect(records.map((r) => r.seq)).toEqual(records.map((_, i) => committedBefore + 1 + i));
      expect(log.stats().unloggedReadings).toBe(overflowed.length);
      expect(cursor.isSaved).toBe(true);
      // New readings go straight in again.
      expect(log.accept(batch())).toBeDefined();
    } finally {
      log.close();
    }
    const again = openLog({ path });
    try {
      expect(again.cursor('mqtt').prefix).toBeGreaterThan(0);
      expect(again.stats().unloggedReadings).toBe(1000);
    } finally {
      again.close();
      small.release();
    }
  });

  it('refuses to start on a full disk with STORE_DISK_FULL naming the file and the space needed', () => {
    const path = small.file('start.db');
    const log = openLog({ path });
    log.append(syntheticBatch(0, 100));
    log.close();
    const before = digest(path);
    small.fill();
    try {
      for (const file of [path, small.file('new.db')]) {
        let error: unknown;
        try {
          openLog({ path: file }).close();
        } catch (e) {
          error = e;
        }
        expect(isLantianError(error) && error.code).toBe('STORE_DISK_FULL');
        if (!isLantianError(error)) return;
        expect(error.context.file).toBe(file);
        expect(error.context.neededBytes).toBeGreaterThan(0);
        expect(error.message).toContain(file);
        expect(error.message).toMatch(/needs at least [\d.]+ MiB free/);
      }
      expect(digest(path)).toBe(before);
    } finally {
      small.release();
    }
    const reopened = openLog({ path });
    expect(reopened.lastSeq).toBe(100);
    reopened.close();
  });
});
