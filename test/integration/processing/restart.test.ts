import { afterEach, describe, expect, it } from 'vitest';
import type { ReadingDraft } from '../../../gateway/src/core/reading.js';
import { Processor, GRACE_MS } from '../../../gateway/src/processing/engine.js';
import { LiveProcessing } from '../../../gateway/src/processing/live.js';
import { openLog, type Log, type LogRecord } from '../../../gateway/src/store/index.js';
import { tempDir, type TempDir } from '../../helpers/store-fixtures.js';
import { BEIJING_DAY, HOUR, MIN, minuteOf, outlet, plan, series } from '../../unit/processing/helpers.js';

const H10 = BEIJING_DAY + 10 * HOUR;
const sitePlan = () =>
  plan(
    [
      series('gas', 'so2', { hj212: 'a21026', outlet: 's1' }),
      series('gas', 'o2', { unit: '%', sourceUnit: '%', outlet: 's1' }),
    ],
    [outlet('s1', { referenceO2Pct: 6, o2: 'gas/o2', pollutants: ['gas/so2'] })],
  );
/** Minute m of the hour: SO2 equal to m, O2 7.2 %. */
const minute = (m: number): ReadingDraft[] => [
  ...minuteOf('gas', 'so2', H10 + m * MIN, () => m),
  ...minuteOf('gas', 'o2', H10 + m * MIN, () => 7.2),
];

function all(log: Log): LogRecord[] {
  const out: LogRecord[] = [];
  for (let page = log.read(0, 1000); page.length > 0; page = log.read(page.at(-1)!.seq, 1000))
    out.push(...page);
  return out;
}

describe('processing across a restart of the gateway', () => {
  let tmp: TempDir;
  afterEach(() => tmp.remove());

  /** Commits each poll, then processes it, as the composition root does; returns the session. */
  function session(path: string, now: number) {
    const log = openLog({ path });
    const live = new LiveProcessing(new Processor(sitePlan()), log);
    const rebuilt = live.rebuild(now);
    const poll = (r: ReadingDraft, processed = true) => {
      log.append([r]);
      if (processed) live.follow(r.ts + 300);
    };
    return { log, live, rebuilt, poll };
  }

  it('neither loses nor double-counts minutes when stopped in the middle of an hour', () => {
    tmp = tempDir('lantian-processing-');
    const path = tmp.file('log.db');
    const first = session(path, H10);
    for (let m = 0; m < 30; m++) for (const r of minute(m)) first.poll(r);
    // The process dies after committing minute 30's readings but before processing them.
    for (const r of minute(30)) first.poll(r, false);
    first.log.close();

    const second = session(path, H10 + 31 * MIN + 2000);
    expect(second.rebuilt.from).toBe(BEIJING_DAY);
    expect(second.rebuilt.readings).toBe(31 * 24);
    for (let m = 31; m < 60; m++) for (const r of minute(m)) second.poll(r);
    second.live.tick(H10 + HOUR + GRACE_MS);
    const aggs = all(second.log).filter((r) => r.type === 'aggregate');
    second.log.close();

    const so2Minutes = aggs.filter((a) => a.point === 'so2' && a.period === 'minute');
    expect(so2Minutes.map((a) => (a.start - H10) / MIN)).toEqual(Array.from({ length: 60 }, (_, m) => m));
    const hours = aggs.filter((a) => a.point === 'so2' && a.period === 'hour');
    expect(hours).toHaveLength(1);
    expect(hours[0]).toMatchObject({
      start: H10,
      count: 60,
      inputs: 60,
      flag: 'N',
      avg: 29.5,
      min: 0,
      max: 59,
    });
    expect(hours[0]!.zsAvg).toBeCloseTo((29.5 * 15) / 13.8, 9);
  });

  it('writes nothing again when restarted after everything was written', () => {
    tmp = tempDir('lantian-processing-');
    const path = tmp.file('log.db');
    const first = session(path, H10);
    for (let m = 0; m < 5; m++) for (const r of minute(m)) first.poll(r);
    first.live.tick(H10 + 5 * MIN + GRACE_MS);
    const before = all(first.log).length;
    first.log.close();

    const second = session(path, H10 + 5 * MIN + GRACE_MS + 1000);
    expect(second.rebuilt).toMatchObject({ readings: 5 * 24, appendedAggregates: 0, appendedEvents: 0 });
    expect(all(second.log)).toHaveLength(before);
    second.log.close();
  });

  it('does not raise again after a restart an exceedance raised on an earlier day and still open', () => {
    tmp = tempDir('lantian-processing-');
    const path = tmp.file('log.db');
    const limited = () =>
      plan(
        [series('gas', 'so2', { hj212: 'a21026', outlet: 's1' })],
        [
          outlet('s1', {
            pollutants: ['gas/so2'],
            limits: [
              { device: 'gas', point: 'so2', max: 35, warning: 31.5, averaging: 'minute', corrected: false },
            ],
          }),
        ],
      );
    const high = (start: number) => minuteOf('gas', 'so2', start, () => 50);
    const DAY2 = H10 + 24 * HOUR;
    const first = openLog({ path });
    const live1 = new LiveProcessing(new Processor(limited()), first);
    live1.rebuild(H10);
    first.append(high(H10));
    live1.follow(H10 + MIN + GRACE_MS); // day 1: raised
    first.append(high(DAY2));
    live1.follow(DAY2 + MIN + GRACE_MS); // day 2: still above, nothing new
    first.close();

    const second = openLog({ path });
    const live2 = new LiveProcessing(new Processor(limited()), second);
    const rebuilt = live2.rebuild(DAY2 + 2 * MIN);
    second.append(high(DAY2 + 2 * MIN));
    live2.follow(DAY2 + 3 * MIN + GRACE_MS);
    const events = all(second).filter((r) => r.type === 'event' && r.kind === 'exceedance');
    second.close();
    expect(rebuilt.from).toBe(BEIJING_DAY + 24 * HOUR);
    expect(events.map((e) => (e as { payload: { state: string; start: number } }).payload)).toEqual([
      expect.objectContaining({ state: 'raised', start: H10 }),
    ]);
  });

  it('keeps what processing adds to an aggregate through the log', () => {
    tmp = tempDir('lantian-processing-');
    const s = session(tmp.file('log.db'), H10);
    for (const r of minute(3)) s.poll(r);
    s.live.tick(H10 + 4 * MIN + GRACE_MS);
    const so2 = all(s.log).find((r) => r.type === 'aggregate' && r.point === 'so2');
    s.log.close();
    expect(so2).toMatchObject({
      outlet: 's1',
      hj212: 'a21026',
      unit: 'mg/m3',
      inputs: 12,
      required: 12,
      derivation: { conversions: ['reference_o2'] },
    });
    expect((so2 as { zsAvg: number }).zsAvg).toBeCloseTo((3 * 15) / 13.8, 9);
  });
});
