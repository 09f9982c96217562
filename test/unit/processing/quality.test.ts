import { describe, expect, it } from 'vitest';
import type { Quality, ReadingDraft } from '../../../gateway/src/core/reading.js';
import {
  DEFAULT_QUALITY,
  QualityChecks,
  type QualitySettings,
} from '../../../gateway/src/processing/quality.js';
import { BEIJING_DAY, outlet, plan, series } from './helpers.js';

const T0 = BEIJING_DAY + 10 * 3_600_000;
const SO2 = series('gas', 'so2', { range: [0, 200], outlet: 's1' });
const O2 = series('gas', 'o2', { unit: '%', sourceUnit: '%', range: [0, 25], outlet: 's1' });
const DUST = series('dust', 'pm', { unit: 'mg/m3' }); // no measuring range

function checks(settings: Partial<QualitySettings> = {}, probe?: () => boolean | undefined, limits = false) {
  const p = plan(
    [SO2, O2, DUST],
    [
      outlet('s1', {
        referenceO2Pct: 6,
        o2: 'gas/o2',
        pollutants: ['gas/so2'],
        limits: limits
          ? [{ device: 'gas', point: 'so2', max: 35, warning: 31.5, averaging: 'hour', corrected: true }]
          : [],
      }),
    ],
  );
  return new QualityChecks(p, { ...DEFAULT_QUALITY, ...settings }, probe);
}

const r = (
  point: string,
  ts: number,
  value: number | null,
  extra: Partial<ReadingDraft> = {},
): ReadingDraft => ({
  ts,
  device: point === 'pm' ? 'dust' : 'gas',
  point,
  value,
  flag: 'N',
  ...extra,
});

/** Runs a series of SO2 values 5 s apart through `c`; returns each reading's reasons. */
function run(c: QualityChecks, values: (number | null)[], point = 'so2', extra: Partial<ReadingDraft> = {}) {
  return values.map((v, i) => c.check([r(point, T0 + i * 5000, v, extra)])[0]!.quality ?? []);
}

/** Index of the first reading carrying `q`, or -1. */
const firstWith = (out: Quality[][], q: Quality) => out.findIndex((x) => x.includes(q));

describe('data-quality checks', () => {
  it('marks identical register words stale once they have not changed for staleMinutes', () => {
    const c = checks({ staleMinutes: 2, flatLineMinutes: 0 });
    const out = run(c, Array<number>(30).fill(35.2), 'so2', { raw: [0x420c, 0xcccd] });
    // 2 minutes at 5 s: reading 24 is the first 120 s after the first.
    expect(firstWith(out, 'stale')).toBe(24);
    expect(out.slice(24).every((q) => q.includes('stale'))).toBe(true);
  });

  it('does not call values stale whose register words change, however little', () => {
    const c = checks({ staleMinutes: 1, flatLineMinutes: 0 });
    const out = Array.from(
      { length: 40 },
      (_, i) =>
        c.check([r('so2', T0 + i * 5000, 35.2, { raw: [0x420c, 0xcccd + (i % 2)] })])[0]!.quality ?? [],
    );
    expect(firstWith(out, 'stale')).toBe(-1);
  });

  it('marks a flat line when values stay within the tolerance of the range for flatLineMinutes', () => {
    // 0.5 % of 0-200 is a band of 1 mg/m3; noise of ±0.4 stays inside it.
    const c = checks({ flatLineMinutes: 3, staleMinutes: 0 });
    const out = run(
      c,
      Array.from({ length: 60 }, (_, i) => 35 + (i % 3) * 0.4),
    );
    expect(firstWith(out, 'flat_line')).toBe(36);
    expect(out.slice(36).every((q) => q.includes('flat_line'))).toBe(true);
  });

  it('starts the flat-line window again when a value leaves the band', () => {
    const c = checks({ flatLineMinutes: 3, staleMinutes: 0 });
    const values = Array.from({ length: 60 }, (_, i) => (i === 30 ? 40 : 35));
    const out = run(c, values);
    // the run restarts at reading 30 (40) and again at 31 (35): 36 readings later is 67 > 59
    expect(firstWith(out, 'flat_line')).toBe(-1);
  });

  it('needs exactly equal values for a flat line on a point without a range', () => {
    const equal = run(checks({ flatLineMinutes: 1, staleMinutes: 0 }), Array<number>(20).fill(0.8), 'pm');
    expect(firstWith(equal, 'flat_line')).toBe(12);
    const moving = run(
      checks({ flatLineMinutes: 1, staleMinutes: 0 }),
      Array.from({ length: 20 }, (_, i) => 0.8 + i * 0.001),
      'pm',
    );
    expect(firstWith(moving, 'flat_line')).toBe(-1);
  });

  it('marks a jump of more than spikePctOfRange from the recent median as a spike, and only it', () => {
    const c = checks({ spikePctOfRange: 25, flatLineMinutes: 0, staleMinutes: 0 });
    // 25 % of 0-200 is 50: 30 -> 81 is a spike, 30 -> 79 is not
    const out = run(c, [30, 31, 29, 30, 30, 81, 30, 31, 79, 30]);
    expect(out.map((q) => q.includes('spike'))).toEqual([
      false,
      false,
      false,
      false,
      false,
      true,
      false,
      false,
      false,
      false,
    ]);
  });

  it('takes the median of the window in any order, not its middle or its mean', () => {
    const c = checks({ spikePctOfRange: 25, flatLineMinutes: 0, staleMinutes: 0 });
    // Window 0, 100, 90, 10, 20: median 20 (mean 44, middle entry 90). 75 is 55 from the median.
    const out = run(c, [0, 100, 90, 10, 20, 75]);
    expect(out[5]).toContain('spike');
    // Window 100, 90, 10, 20, 75: median 75. 30 is 45 away: no spike.
    expect(run(c, [30])[0]).not.toContain('spike');
  });

  it('marks values below the bottom of the measuring range out_of_range, leaving the flag alone', () => {
    const c = checks({ flatLineMinutes: 0, staleMinutes: 0, spikePctOfRange: 0 });
    const [low, ok] = c.check([r('so2', T0, -3.5), r('so2', T0 + 5000, 0)]);
    expect(low).toMatchObject({ value: -3.5, flag: 'N', quality: ['out_of_range'] });
    expect(ok!.quality).toBeUndefined();
  });

  it('marks values held just under a corrected limit for clipMinutes, judged at the reference O2', () => {
    // limit 35 at 6 % O2; at O2 7.2 % the factor is 15/13.8, so a measured 31.5 is 34.24 (in the
    // 5 % band 33.25-35) and a measured 29 is 31.52 (below the band)
    const c = checks(
      { clipMinutes: 2, flatLineMinutes: 0, staleMinutes: 0, spikePctOfRange: 0 },
      undefined,
      true,
    );
    const feed = (values: number[]) =>
      values.map((v, i) => {
        const t = T0 + i * 5000;
        return c.check([r('o2', t, 7.2), r('so2', t, v)])[1]!.quality ?? [];
      });
    const held = feed(Array.from({ length: 40 }, (_, i) => 31.3 + (i % 4) * 0.1));
    expect(firstWith(held, 'clipped_below_limit')).toBe(24);
    const below = feed(Array<number>(40).fill(29));
    expect(firstWith(below, 'clipped_below_limit')).toBe(-1);
  });

  it('starts the clipping window again when a value leaves the band, above or below', () => {
    const c = checks(
      { clipMinutes: 1, flatLineMinutes: 0, staleMinutes: 0, spikePctOfRange: 0 },
      undefined,
      true,
    );
    const out = Array.from({ length: 30 }, (_, i) => {
      const t = T0 + i * 5000;
      const so2 = i === 10 ? 40 : 31.5; // one value above the limit breaks the pattern
      return c.check([r('o2', t, 7.2), r('so2', t, so2)])[1]!.quality ?? [];
    });
    expect(firstWith(out, 'clipped_below_limit')).toBe(23);
  });

  it('marks every reading clock_unsynchronised while the probe says so, and none while synced', () => {
    let synced = false;
    const c = checks({}, () => synced);
    const [a, b] = c.check([r('so2', T0, 30), r('pm', T0, null, { flag: 'B', quality: ['timeout'] })]);
    expect(a!.quality).toEqual(['clock_unsynchronised']);
    expect(b).toMatchObject({ value: null, flag: 'B', quality: ['timeout', 'clock_unsynchronised'] });
    synced = true;
    expect(c.check([r('so2', T0 + 5000, 30)])[0]!.quality).toBeUndefined();
    expect(c.counts()).toEqual({ clock_unsynchronised: 2 });
  });

  it('never changes a value or flag, and lets readings that do not count through unchecked', () => {
    const c = checks({ staleMinutes: 1, flatLineMinutes: 0 });
    const inputs = Array.from({ length: 30 }, (_, i) =>
      r('so2', T0 + i * 5000, 35, { flag: i < 20 ? 'C' : 'N' }),
    );
    const out = inputs.flatMap((x) => c.check([x]));
    expect(out.map((x) => [x.value, x.flag])).toEqual(inputs.map((x) => [x.value, x.flag]));
    // the 20 calibration readings neither start nor extend the stale run: it starts at reading 20
    expect(out.findIndex((x) => x.quality?.includes('stale'))).toBe(-1);
  });

  it('counts each reason it adds, and nothing for readings only replayed to fill its windows', () => {
    const c = checks({ staleMinutes: 1, flatLineMinutes: 0 });
    for (let i = 0; i < 12; i++) c.check([r('so2', T0 + i * 5000, 35)], false);
    expect(c.counts()).toEqual({});
    const out = c.check([r('so2', T0 + 12 * 5000, 35), r('so2', T0 + 13 * 5000, 35)]);
    expect(out.map((x) => x.quality)).toEqual([['stale'], ['stale']]);
    expect(c.counts()).toEqual({ stale: 2 });
  });
});
