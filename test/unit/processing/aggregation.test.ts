import { describe, expect, it, vi } from 'vitest';
import { Processor, GRACE_MS } from '../../../gateway/src/processing/engine.js';
import { SiteCalendar } from '../../../gateway/src/processing/calendar.js';
import type { Flag } from '../../../gateway/src/core/flags.js';
import type { Aggregate } from '../../../gateway/src/processing/types.js';
import { BEIJING_DAY, HOUR, MIN, find, minuteOf, plan, series } from './helpers.js';

function run(p: Processor, readings: ReturnType<typeof minuteOf>, flush = true): Aggregate[] {
  const out = readings.flatMap((r) => p.push([r], r.ts).aggregates);
  if (flush) out.push(...p.flush().aggregates);
  return out;
}

/** The one minute aggregate of gas/so2 from `n` samples 5 s apart. */
function so2Minute(
  value: (i: number) => number,
  flag: (i: number) => Flag = () => 'N',
  n = 12,
  extra: Parameters<typeof series>[2] = {},
): Aggregate {
  const p = new Processor(plan([series('gas', 'so2', extra)]));
  return find(run(p, minuteOf('gas', 'so2', BEIJING_DAY, value, flag, n)), 'gas', 'so2', 'minute')[0]!;
}

describe('minute values (HJ 212-2017 附录 D formula 23)', () => {
  it('averages twelve 5-s samples into a valid minute with min, max and count', () => {
    expect(so2Minute((i) => 20 + i)).toMatchObject({
      start: BEIJING_DAY,
      min: 20,
      avg: 25.5,
      max: 31,
      count: 12,
      inputs: 12,
      required: 12,
      flag: 'N',
      unit: 'mg/m3',
    });
  });

  it('flags a minute with eleven valid samples not N, and still reports their mean', () => {
    expect(
      so2Minute(
        () => 10,
        () => 'N',
        11,
      ),
    ).toMatchObject({ avg: 10, count: 11, flag: 'D' });
  });

  it('leaves calibration samples out of the average and flags the minute C when they dominate', () => {
    const m = so2Minute(
      (i) => (i < 8 ? 500 : 10),
      (i) => (i < 8 ? 'C' : 'N'),
    );
    expect(m).toMatchObject({ avg: 10, max: 10, count: 4, inputs: 12, flag: 'C' });
  });

  it('counts S samples and marks the minute S', () => {
    expect(
      so2Minute(
        () => 5,
        (i) => (i === 0 ? 'S' : 'N'),
      ),
    ).toMatchObject({ count: 12, flag: 'S' });
  });

  it('counts slots that overran as B samples at their due times, across a minute boundary', () => {
    const p = new Processor(plan([series('gas', 'so2')]));
    const at = (i: number) => BEIJING_DAY + i * 5000;
    const reading = (i: number, missed?: { slots: number; from: number; periodMs: number }) => ({
      ts: at(i),
      device: 'gas',
      point: 'so2',
      value: 10,
      flag: 'N' as const,
      ...(missed ? { missed } : {}),
    });
    // Slots 1-7 overran and ride on slot 8's reading; slots 10-12 (12 opens the next minute) on 13's.
    const readings = [
      reading(0),
      reading(8, { slots: 7, from: at(1), periodMs: 5000 }),
      reading(9),
      reading(13, { slots: 3, from: at(10), periodMs: 5000 }),
    ];
    const [first, second] = find(run(p, readings), 'gas', 'so2', 'minute');
    expect(first).toMatchObject({ start: BEIJING_DAY, count: 3, inputs: 12, flag: 'B' });
    expect(second).toMatchObject({ start: BEIJING_DAY + MIN, count: 1, inputs: 2, flag: 'B' });
    expect(p.stats()).toMatchObject({ samples: 14, late: 0 });
  });

  it('counts a long run of missed slots per minute exactly as one B reading per slot would', () => {
    const missed = { slots: 1500, from: BEIJING_DAY + 59_950, periodMs: 100 };
    const last = { ts: missed.from + 1500 * 100, device: 'gas', point: 'so2', value: 10, flag: 'N' as const };
    const grouped = new Processor(plan([series('gas', 'so2')]));
    const bySlot = new Processor(plan([series('gas', 'so2')]));
    const one = run(grouped, [{ ...last, missed }]);
    const slots = Array.from({ length: missed.slots }, (_, i) => ({
      ...last,
      ts: missed.from + i * missed.periodMs,
      value: null,
      flag: 'B' as const,
    }));
    const each = run(bySlot, [...slots, last]);
    const minutes = find(one, 'gas', 'so2', 'minute');
    // The run spans four minutes: 1 slot in the first, 600 in the next two, the rest in the fourth.
    expect(minutes.map((m) => m.inputs)).toEqual([1, 600, 600, 300]);
    expect(minutes).toEqual(find(each, 'gas', 'so2', 'minute'));
    expect(grouped.stats()).toEqual(bySlot.stats());
  });

  it('honours a smaller configured minimum of samples per minute', () => {
    expect(
      so2Minute(
        () => 80,
        () => 'N',
        6,
        { minSamples: 6 },
      ),
    ).toMatchObject({ count: 6, required: 6, flag: 'N' });
  });

  it('converts a ppm analyzer to mg/m3 by molar mass and says so', () => {
    const m = so2Minute(() => 10, undefined, 12, { sourceUnit: 'ppm', hj212: 'a21026', ppmMolarMass: 64.06 });
    expect(m.avg).toBeCloseTo(28.598, 3); // 10 × 64.06 / 22.4
    expect(m.derivation).toEqual({
      conversions: ['ppm_to_mg_m3'],
      inputs: { ppm: 10, molarMassGPerMol: 64.06 },
    });
  });
});

describe('hour and day values (formulas 24, 25)', () => {
  const hourWith = (validMinutes: number) => {
    const p = new Processor(plan([series('gas', 'so2')]));
    const readings = Array.from({ length: 60 }, (_, m) =>
      minuteOf(
        'gas',
        'so2',
        BEIJING_DAY + m * MIN,
        () => (m < validMinutes ? 30 : 999),
        () => (m < validMinutes ? 'N' : 'M'),
      ),
    ).flat();
    return find(run(p, readings), 'gas', 'so2', 'hour')[0]!;
  };

  it('makes an hour of 45 valid minutes valid', () => {
    expect(hourWith(45)).toMatchObject({
      start: BEIJING_DAY,
      avg: 30,
      count: 45,
      inputs: 60,
      required: 45,
      flag: 'N',
    });
  });

  it('flags an hour of 44 valid minutes by its dominant minute flag', () => {
    expect(hourWith(44)).toMatchObject({ avg: 30, count: 44, flag: 'M' });
    expect(hourWith(10)).toMatchObject({ avg: 30, count: 10, flag: 'M' });
  });

  it('flags an hour D when only 44 minutes came at all', () => {
    const p = new Processor(plan([series('gas', 'so2')]));
    const readings = Array.from({ length: 44 }, (_, m) =>
      minuteOf('gas', 'so2', BEIJING_DAY + m * MIN, () => 7),
    ).flat();
    expect(find(run(p, readings), 'gas', 'so2', 'hour')[0]).toMatchObject({
      avg: 7,
      count: 44,
      inputs: 44,
      flag: 'D',
    });
  });

  it('makes a day of 20 valid hours valid and of 19 not', () => {
    for (const [hours, flag] of [
      [20, 'N'],
      [19, 'D'],
    ] as const) {
      const p = new Processor(plan([series('gas', 'so2', { minSamples: 1 })]));
      const readings = Array.from({ length: hours * 60 }, (_, m) => ({
        ts: BEIJING_DAY + m * MIN,
        device: 'gas',
        point: 'so2',
        value: 1 + (m % 60),
        flag: 'N' as const,
      }));
      const day = find(run(p, readings), 'gas', 'so2', 'day')[0]!;
      expect(day).toMatchObject({ start: BEIJING_DAY, count: hours, flag, required: 20 });
      expect(day.avg).toBeCloseTo(30.5, 9);
      expect(day).toMatchObject({ min: 1, max: 60 });
    }
  });
});

describe('periods on the site wall clock', () => {
  it('starts a Beijing day at 16:00 UTC and a Kolkata hour at half past a UTC hour', () => {
    const bj = new SiteCalendar('Asia/Shanghai');
    expect(bj.start(BEIJING_DAY + 5 * HOUR + 123, 'day')).toBe(BEIJING_DAY);
    expect(bj.end(BEIJING_DAY, 'day')).toBe(BEIJING_DAY + 24 * HOUR);
    const in_ = new SiteCalendar('Asia/Kolkata');
    expect(in_.start(Date.UTC(2026, 0, 1, 10, 45), 'hour')).toBe(Date.UTC(2026, 0, 1, 10, 30));
    expect(in_.start(Date.UTC(2026, 0, 1, 10, 15), 'hour')).toBe(Date.UTC(2026, 0, 1, 9, 30));
  });

  it('gives a 23-hour day when daylight saving starts', () => {
    const eu = new SiteCalendar('Europe/Berlin');
    const start = eu.start(Date.UTC(2026, 2, 29, 12), 'day'); // 2026-03-29, clocks go forward
    expect(start).toBe(Date.UTC(2026, 2, 28, 23));
    expect(eu.end(start, 'day') - start).toBe(23 * HOUR);
  });

  it('answers from the periods it holds exactly as a fresh calendar does, across a clock change', () => {
    const held = new SiteCalendar('Europe/Berlin');
    const kinds = ['minute', 'quarter_hour', 'hour', 'day'] as const;
    // Every 7 minutes and 13 s through the autumn change (2026-10-25), late readings interleaved.
    for (let ts = Date.UTC(2026, 9, 24, 20); ts < Date.UTC(2026, 9, 26, 4); ts += 433_000) {
      for (const t of [ts, ts - 61_000]) {
        for (const kind of kinds) {
          const fresh = new SiteCalendar('Europe/Berlin');
          const start = held.start(t, kind);
          expect(start).toBe(fresh.start(t, kind));
          expect(held.end(start, kind)).toBe(fresh.end(start, kind));
        }
      }
    }
  });

  it('looks up no offset for a timestamp inside a period it holds', () => {
    const bj = new SiteCalendar('Asia/Shanghai');
    const spy = vi.spyOn(bj, 'offsetMs');
    try {
      bj.start(BEIJING_DAY + 5 * HOUR, 'hour');
      const calls = spy.mock.calls.length;
      expect(calls).toBeGreaterThan(0);
      for (let i = 0; i < 100; i++) bj.start(BEIJING_DAY + 5 * HOUR + i * 30_000, 'hour');
      expect(bj.end(BEIJING_DAY + 5 * HOUR, 'hour')).toBe(BEIJING_DAY + 6 * HOUR);
      expect(spy.mock.calls.length).toBe(calls);
      bj.start(BEIJING_DAY + 6 * HOUR, 'hour');
      expect(spy.mock.calls.length).toBeGreaterThan(calls);
    } finally {
      spy.mockRestore();
    }
  });

  it('closes a minute on the clock only after the grace time and ignores late readings', () => {
    const p = new Processor(plan([series('gas', 'so2')]));
    const first = p.push(
      minuteOf('gas', 'so2', BEIJING_DAY, () => 1),
      BEIJING_DAY + MIN + GRACE_MS - 1,
    );
    expect(first.aggregates).toEqual([]);
    const closed = p.advance(BEIJING_DAY + MIN + GRACE_MS);
    expect(find(closed.aggregates, 'gas', 'so2', 'minute')).toHaveLength(1);
    p.push(
      [{ ts: BEIJING_DAY + 30_000, device: 'gas', point: 'so2', value: 1e6, flag: 'N' }],
      BEIJING_DAY + 2 * MIN,
    );
    expect(p.stats().late).toBe(1);
    expect(find(p.flush().aggregates, 'gas', 'so2', 'minute')).toEqual([]);
  });

  it('ignores points it does not aggregate and string values', () => {
    const p = new Processor(plan([series('gas', 'so2')]));
    p.push(
      [
        { ts: BEIJING_DAY, device: 'gas', point: 'status', value: 3, flag: 'N' },
        { ts: BEIJING_DAY, device: 'gas', point: 'so2', value: 'x', flag: 'N' },
      ],
      BEIJING_DAY,
    );
    expect(p.stats()).toMatchObject({ ignored: 2, samples: 0 });
  });
});
