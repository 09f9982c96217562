import { describe, expect, it } from 'vitest';
import { Processor } from '../../../gateway/src/processing/engine.js';
import type { ReadingDraft } from '../../../gateway/src/core/reading.js';
import { BEIJING_DAY, HOUR, MIN, find, minuteOf, outlet, plan, series } from './helpers.js';

/** The reference's worked CN 2051 packet: ten minutes at O2 7.2 %, 50 m3/s dry standard flow. */
const stack = () =>
  plan(
    [
      series('gas', 'so2', { hj212: 'a21026', outlet: 's1' }),
      series('gas', 'o2', { unit: '%', sourceUnit: '%', hj212: 'a19001', outlet: 's1' }),
      series('flow', 'flow', { unit: 'm3/s', sourceUnit: 'm3/s', outlet: 's1' }),
      series('flow', 'temperature', { unit: 'degC', sourceUnit: 'degC', outlet: 's1' }),
      series('flow', 'pressure', { unit: 'kPa', sourceUnit: 'kPa', outlet: 's1' }),
      series('flow', 'moisture', { unit: '%', sourceUnit: '%', outlet: 's1' }),
    ],
    [
      outlet('s1', {
        referenceO2Pct: 6,
        o2: 'gas/o2',
        pollutants: ['gas/so2'],
        flue: {
          flow: 'flow/flow',
          temperature: 'flow/temperature',
          pressure: 'flow/pressure',
          moisture: 'flow/moisture',
        },
        flowUnit: 'm3/s',
        limits: [{ device: 'gas', point: 'so2', max: 35, warning: 31.5, averaging: 'hour', corrected: true }],
      }),
    ],
  );

function minute(start: number, so2: number, o2 = 7.2): ReadingDraft[] {
  return [
    ...minuteOf('gas', 'so2', start, () => so2),
    ...minuteOf('gas', 'o2', start, () => o2),
    // a flue at standard conditions and dry, so the meter's 50 m3/s is the dry standard flow
    ...minuteOf('flow', 'flow', start, () => 50),
    ...minuteOf('flow', 'temperature', start, () => 0),
    ...minuteOf('flow', 'pressure', start, () => 0),
    ...minuteOf('flow', 'moisture', start, () => 0),
  ];
}

const feed = (p: Processor, readings: ReadingDraft[]) => {
  const out = readings.map((r) => p.push([r], r.ts));
  out.push(p.flush());
  return { aggregates: out.flatMap((o) => o.aggregates), events: out.flatMap((o) => o.events) };
};

describe('outlet conversions on minute values', () => {
  it('reproduces the worked packet: SO2 22.4 -> ZsAvg 24.35 and 0.672 kg over ten minutes', () => {
    const p = new Processor(stack());
    const readings = Array.from({ length: 10 }, (_, m) => minute(BEIJING_DAY + m * MIN, 22.4)).flat();
    const { aggregates } = feed(p, readings);
    const m0 = find(aggregates, 'gas', 'so2', 'minute', BEIJING_DAY)[0]!;
    expect(m0.zsAvg).toBeCloseTo(24.3478, 4);
    expect(m0.cou).toBeCloseTo(0.0672, 9); // 22.4 mg/m3 × 50 m3/s × 60 s × 10^-6
    expect(m0.derivation).toEqual({
      conversions: ['reference_o2', 'emission_amount'],
      inputs: { o2MeasuredPct: expect.closeTo(7.2, 9), o2ReferencePct: 6, flowM3S: 50, seconds: 60 },
    });
    const hour = find(aggregates, 'gas', 'so2', 'hour')[0]!;
    expect(hour.cou).toBeCloseTo(0.672, 9);
    expect(hour.zsAvg).toBeCloseTo(24.3478, 4);
    expect(hour.flag).toBe('D'); // ten minutes are not an hour
    const flow = find(aggregates, 's1', 'dry_std_flow', 'minute', BEIJING_DAY)[0]!;
    expect(flow).toMatchObject({ outlet: 's1', hj212: 'a00000', unit: 'm3/s', flag: 'N' });
    expect(flow.avg).toBeCloseTo(50, 9);
    expect(flow.cou).toBeCloseTo(3000, 9); // m3 in the minute
    expect(find(aggregates, 's1', 'dry_std_flow', 'hour')[0]!.cou).toBeCloseTo(30_000, 6);
  });

  it('gives no converted value when O2 is invalid, and keeps the measured one', () => {
    const p = new Processor(stack());
    const readings = minute(BEIJING_DAY, 22.4).map((r) =>
      r.point === 'o2' ? { ...r, flag: 'D' as const } : r,
    );
    const m0 = find(feed(p, readings).aggregates, 'gas', 'so2', 'minute')[0]!;
    expect(m0).toMatchObject({ avg: expect.closeTo(22.4, 9), flag: 'N', zsAvg: null });
    expect(m0.cou).toBeCloseTo(0.0672, 9);
  });

  it('computes NOx as NO2 when only NO and NO2 are measured', () => {
    const p = new Processor(
      plan(
        [
          series('gas', 'no', { hj212: 'a21003', outlet: 's1' }),
          series('gas', 'no2', { hj212: 'a21004', outlet: 's1' }),
        ],
        [outlet('s1', { pollutants: ['gas/no', 'gas/no2'], noxFrom: { no: 'gas/no', no2: 'gas/no2' } })],
      ),
    );
    const readings = [
      ...minuteOf('gas', 'no', BEIJING_DAY, () => 58),
      ...minuteOf('gas', 'no2', BEIJING_DAY, () => 4.2),
    ];
    const nox = find(feed(p, readings).aggregates, 's1', 'nox_as_no2', 'minute')[0]!;
    expect(nox.avg).toBeCloseTo(93.123, 3);
    expect(nox).toMatchObject({ hj212: 'a21002', flag: 'N', derivation: { conversions: ['nox_as_no2'] } });
  });
});

describe('limits and early warning', () => {
  it('raises an alarm, then an exceedance, and clears both, on hourly converted values', () => {
    const p = new Processor(stack());
    // hour 0: 28 -> 30.4 at 6 % (under 31.5); hour 1: 30 -> 32.6 (warning); hour 2: 33 -> 35.9 (over 35); hour 3: 20
    const levels = [28, 30, 33, 20];
    const readings = levels.flatMap((so2, h) =>
      Array.from({ length: 60 }, (_, m) => minute(BEIJING_DAY + h * HOUR + m * MIN, so2)).flat(),
    );
    const { events } = feed(p, readings);
    const brief = events.map((e) => [e.kind, e.payload.state, e.payload.start]);
    expect(brief).toEqual([
      ['alarm', 'raised', BEIJING_DAY + HOUR],
      ['exceedance', 'raised', BEIJING_DAY + 2 * HOUR],
      ['alarm', 'cleared', BEIJING_DAY + 3 * HOUR],
      ['exceedance', 'cleared', BEIJING_DAY + 3 * HOUR],
    ]);
    const raised = events[1]!;
    expect(raised.ts).toBe(BEIJING_DAY + 3 * HOUR); // known when the hour ended
    expect(raised.payload).toMatchObject({
      outlet: 's1',
      device: 'gas',
      point: 'so2',
      period: 'hour',
      limit: 35,
      corrected: true,
      hj212: 'a21026',
    });
    expect(raised.payload.value as number).toBeCloseTo((33 * 15) / 13.8, 6);
  });
});
