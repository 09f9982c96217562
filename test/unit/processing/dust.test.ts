import { describe, expect, it } from 'vitest';
import type { Flag } from '../../../gateway/src/core/flags.js';
import type { ReadingDraft } from '../../../gateway/src/core/reading.js';
import { Processor } from '../../../gateway/src/processing/engine.js';
import type { DustPlan, LimitPlan, WindPlan } from '../../../gateway/src/processing/plan.js';
import type { ProcessingOutput } from '../../../gateway/src/processing/types.js';
import { BEIJING_DAY, HOUR, MIN, find, minuteOf, plan, series } from './helpers.js';

const pm10 = () => series('dust1', 'pm10', { unit: 'ug/m3', sourceUnit: 'ug/m3', dust: true });

function dustProcessor(dust: Partial<DustPlan> = {}, extra = [series('gas', 'so2')]): Processor {
  return new Processor({
    ...plan([pm10(), ...extra]),
    dust: { limits: [], fastDevices: [], notes: [], ...dust },
  });
}

/** Readings of `device/point`, twelve a minute, for `minutes` minutes from `start`. */
function minutes(
  device: string,
  point: string,
  start: number,
  count: number,
  value: (minute: number) => number,
  flag: (minute: number) => Flag = () => 'N',
): ReadingDraft[] {
  return Array.from({ length: count }, (_, m) =>
    minuteOf(
      device,
      point,
      start + m * MIN,
      () => value(m),
      () => flag(m),
    ),
  ).flat();
}

function run(p: Processor, readings: readonly ReadingDraft[], flush = true): ProcessingOutput {
  const out: ProcessingOutput = { aggregates: [], events: [] };
  const add = (o: ProcessingOutput) => {
    out.aggregates.push(...o.aggregates);
    out.events.push(...o.events);
  };
  for (const r of readings) add(p.push([r], r.ts));
  if (flush) add(p.flush());
  return out;
}

describe('15-minute dust values', () => {
  it('averages the valid minutes of each local quarter-hour of a dust point', () => {
    const p = dustProcessor();
    const out = run(
      p,
      minutes('dust1', 'pm10', BEIJING_DAY, 30, (m) => (m < 15 ? 100 : 200)),
    );
    const q = find(out.aggregates, 'dust1', 'pm10', 'quarter_hour');
    expect(q.map((a) => [a.start, a.avg, a.count, a.flag, a.required])).toEqual([
      [BEIJING_DAY, 100, 15, 'N', 12],
      [BEIJING_DAY + 15 * MIN, 200, 15, 'N', 12],
    ]);
    expect(find(out.aggregates, 'dust1', 'pm10', 'hour')[0]).toMatchObject({ avg: 150, count: 30 });
  });

  it('flags a quarter-hour with eleven valid minutes not N, with the mean of what it had', () => {
    const p = dustProcessor();
    const out = run(
      p,
      minutes(
        'dust1',
        'pm10',
        BEIJING_DAY,
        15,
        () => 80,
        (m) => (m < 11 ? 'N' : 'B'),
      ),
    );
    expect(find(out.aggregates, 'dust1', 'pm10', 'quarter_hour')[0]).toMatchObject({
      avg: 80,
      count: 11,
      inputs: 15,
      flag: 'B',
    });
  });

  it('gives quarter-hours to dust points only', () => {
    const p = dustProcessor();
    const out = run(
      p,
      minutes('gas', 'so2', BEIJING_DAY, 15, () => 20),
    );
    expect(out.aggregates.filter((a) => a.period === 'quarter_hour')).toEqual([]);
    expect(p.stats().aggregates.quarter_hour).toBe(0);
  });
});

const limit = (extra: Partial<LimitPlan> = {}): LimitPlan => ({
  device: 'dust1',
  point: 'pm10',
  max: 80,
  warning: 72,
  averaging: 'quarter_hour',
  corrected: false,
  ...extra,
});

describe('site limits', () => {
  it('raises an exceedance without an outlet when a quarter-hour is above the limit, and clears it', () => {
    const p = dustProcessor({ limits: [limit()] });
    const out = run(
      p,
      minutes('dust1', 'pm10', BEIJING_DAY, 30, (m) => (m < 15 ? 120 : 50)),
    );
    const ex = out.events.filter((e) => e.kind === 'exceedance');
    expect(ex.map((e) => [e.ts, (e.payload as { state: string }).state])).toEqual([
      [BEIJING_DAY + 15 * MIN, 'raised'],
      [BEIJING_DAY + 30 * MIN, 'cleared'],
    ]);
    expect(ex[0]!.payload).toMatchObject({
      device: 'dust1',
      point: 'pm10',
      period: 'quarter_hour',
      value: 120,
    });
    expect(ex[0]!.payload).not.toHaveProperty('outlet');
  });

  it('judges the hourly value minus the district reference when the limit says so', () => {
    // 150 µg/m3 on site, the district at 90: an excess of 60, within a limit of 80 on the excess.
    const within = run(
      dustProcessor({ limits: [limit({ averaging: 'hour', reference: 90 })] }),
      minutes('dust1', 'pm10', BEIJING_DAY, 60, () => 150),
    );
    expect(within.events.filter((e) => e.kind === 'exceedance')).toEqual([]);
    // 180 on site: an excess of 90 over the district's 90 exceeds it.
    const over = run(
      dustProcessor({ limits: [limit({ averaging: 'hour', reference: 90 })] }),
      minutes('dust1', 'pm10', BEIJING_DAY, 60, () => 180),
    );
    const e = over.events.find((x) => x.kind === 'exceedance');
    expect(e).toMatchObject({ ts: BEIJING_DAY + HOUR });
    expect(e!.payload).toMatchObject({ state: 'raised', value: 90, measured: 180, reference: 90, limit: 80 });
  });
});

describe('real-time site limits', () => {
  it('judges every valid reading, skipping flagged ones, with the reading time as the event time', () => {
    const p = dustProcessor({ limits: [limit({ averaging: 'realtime', max: 150, warning: 135 })] });
    const at = (i: number) => BEIJING_DAY + i * 2000;
    const values: [number | null, Flag][] = [
      [90, 'N'],
      [400, 'B'],
      [400, 'N'],
      [420, 'N'],
      [60, 'N'],
    ];
    const out = run(
      p,
      values.map(([value, flag], i) => ({ ts: at(i), device: 'dust1', point: 'pm10', value, flag })),
      false,
    );
    const ex = out.events.filter((e) => e.kind === 'exceedance');
    expect(ex.map((e) => [e.ts, (e.payload as { state: string }).state])).toEqual([
      [at(2), 'raised'],
      [at(4), 'cleared'],
    ]);
    expect(ex[0]!.payload).toMatchObject({ period: 'realtime', start: at(2), value: 400, unit: 'ug/m3' });
  });
});

const wind: WindPlan = {
  device: 'dust1',
  point: 'wind_speed',
  above: 10.8,
  below: 8,
  holdMs: 60_000,
  clearMs: 120_000,
  periodMs: 1000,
};

const gusts = (from: number, values: readonly (number | null)[], stepMs = 10_000, flag: Flag = 'N') =>
  values.map((value, i) => ({ ts: from + i * stepMs, device: 'dust1', point: 'wind_speed', value, flag }));

describe('high wind', () => {
  it('is raised once the speed stayed above the threshold for the hold time, and the state follows', () => {
    const p = dustProcessor({ highWind: wind });
    const out = run(p, gusts(BEIJING_DAY, [5, 12, 12, 12, 12, 12, 12, 12]), false);
    const e = out.events.filter((x) => x.kind === 'high_wind');
    expect(e).toHaveLength(1);
    expect(e[0]).toMatchObject({ ts: BEIJING_DAY + 70_000 });
    expect(e[0]!.payload).toMatchObject({
      state: 'raised',
      start: BEIJING_DAY + 70_000,
      threshold: 10.8,
      value: 12,
    });
    expect(p.highWind).toBe(true);
  });

  it('is not raised by gusts shorter than the hold time, nor across a flagged reading', () => {
    const p = dustProcessor({ highWind: wind });
    const gust = [12, 12, 12, 5, 12, 12, 12, 12, 12, 12, 5];
    const flagged = gusts(BEIJING_DAY + 200_000, [12, 12, 12, 12], 10_000);
    flagged.push({ ...flagged[0]!, ts: BEIJING_DAY + 240_000, value: null, flag: 'B' });
    flagged.push(...gusts(BEIJING_DAY + 250_000, [12, 12, 12, 12, 12], 10_000));
    const out = run(p, [...gusts(BEIJING_DAY, gust), ...flagged], false);
    expect(out.events.filter((x) => x.kind === 'high_wind')).toEqual([]);
    expect(p.highWind).toBe(false);
  });

  it('ends only after the speed stayed below `below` for the clear time, with the peak in the event', () => {
    const p = dustProcessor({ highWind: wind });
    const speeds = [12, 12, 12, 12, 12, 12, 12, 15, 9, 9, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7];
    const out = run(p, gusts(BEIJING_DAY, speeds), false);
    const e = out.events.filter((x) => x.kind === 'high_wind');
    expect(e.map((x) => (x.payload as { state: string }).state)).toEqual(['raised', 'cleared']);
    // Below 8 from the 11th reading (100 s); cleared 120 s later.
    expect(e[1]).toMatchObject({ ts: BEIJING_DAY + 220_000 });
    expect(e[1]!.payload).toMatchObject({
      start: BEIJING_DAY + 60_000,
      end: BEIJING_DAY + 220_000,
      peak: 15,
    });
    expect(p.highWind).toBe(false);
  });

  it('takes its state back from the log, so a restart does not raise it a second time', () => {
    const p = dustProcessor({ highWind: wind });
    p.restoreLimits([
      {
        kind: 'high_wind',
        payload: { state: 'raised', device: 'dust1', point: 'wind_speed', start: BEIJING_DAY },
      },
    ]);
    expect(p.highWind).toBe(true);
    const out = run(p, gusts(BEIJING_DAY + HOUR, [12, 12, 12, 12, 12, 12, 12, 12]), false);
    expect(out.events.filter((x) => x.kind === 'high_wind')).toEqual([]);
  });
});
