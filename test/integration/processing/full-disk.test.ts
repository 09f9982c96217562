import { describe, expect, it } from 'vitest';
import type { ReadingDraft } from '../../../gateway/src/core/reading.js';
import { GRACE_MS, Processor } from '../../../gateway/src/processing/engine.js';
import { LiveProcessing } from '../../../gateway/src/processing/live.js';
import { reprocess } from '../../../gateway/src/processing/offline.js';
import { openLog, type Log, type LogRecord } from '../../../gateway/src/store/index.js';
import { smallDiskForFile, whenLog } from '../../helpers/store-disk.js';
import { BEIJING_DAY, HOUR, MIN, plan, series } from '../../unit/processing/helpers.js';

const { reason, disk } = smallDiskForFile(2 * 1024 * 1024);

const H10 = BEIJING_DAY + 10 * HOUR;
const sitePlan = () => plan([series('gas', 'so2', { minSamples: 1 })]);

function all(log: Log): LogRecord[] {
  const out: LogRecord[] = [];
  for (let page = log.read(0, 1000); page.length > 0; page = log.read(page.at(-1)!.seq, 1000))
    out.push(...page);
  return out;
}

describe.skipIf(reason !== '')(`processing while the log cannot write ${reason}`, () => {
  it('aggregates only committed readings: nothing that overflowed the queue, no minute closed early', async () => {
    const small = disk();
    const log = openLog({ path: small.file('log.db'), pendingMaxReadings: 30, retryMs: 50 });
    const live = new LiveProcessing(new Processor(sitePlan()), log);
    live.rebuild(H10);
    // One SO2 reading a second, each committed and followed as Gateway.accept does.
    let i = 0;
    const poll = (): boolean => {
      const r: ReadingDraft = { ts: H10 + i * 1000, device: 'gas', point: 'so2', value: i, flag: 'N' };
      i++;
      const queued = log.accept(live.annotate([r])) === undefined;
      live.follow(r.ts + 200, queued);
      return queued;
    };
    try {
      for (let n = 0; n < 20; n++) expect(poll()).toBe(false);
      small.fill();
      while (!poll()); // the WAL may take a few more before the first refusal
      for (let n = 0; n < 100; n++) expect(poll()).toBe(true); // 70 of these overflow the queue
      const fed = i;
      // The clock runs on well past the minutes of the queued readings: nothing closes yet.
      live.tick(H10 + fed * 1000 + 5 * MIN);
      expect(live.health().waitingForLog).toBe(true);
      expect(log.stats().unloggedReadings).toBeGreaterThan(0);

      small.release();
      await whenLog(log, () => log.stats().pendingReadings === 0);
      live.tick(H10 + fed * 1000 + 5 * MIN);
      expect(live.health().waitingForLog).toBe(false);
      live.tick(H10 + 2 * HOUR + GRACE_MS); // the hour closes too

      const records = all(log);
      const readings = records.filter((r) => r.type === 'reading');
      const minutes = records.filter((r) => r.type === 'aggregate' && r.period === 'minute');
      expect(readings.length).toBeLessThan(fed);
      // every committed reading is in exactly one minute, and nothing else is
      expect(minutes.reduce((n, a) => n + (a as { inputs: number }).inputs, 0)).toBe(readings.length);
      // and the log's minutes and hour are what offline reprocessing of the log's readings gives
      // (offline also closes the day, which the live clock has not reached)
      const offline: string[] = [];
      await reprocess(
        sitePlan(),
        readings.map((r) => JSON.stringify(r)),
        (l) => offline.push(l),
      );
      const strip = ({ seq: _s, type: _t, ...rest }: Record<string, unknown>) => rest;
      expect(
        records
          .filter((r) => r.type === 'aggregate')
          .map((r) => strip(r as unknown as Record<string, unknown>)),
      ).toEqual(
        offline
          .map((l) => JSON.parse(l) as Record<string, unknown>)
          .filter((o) => o.type === 'aggregate' && o.period !== 'day')
          .map(strip),
      );
    } finally {
      log.close();
      small.release();
    }
  });
});
