import { describe, expect, it } from 'vitest';
import type { Flag } from '../../../gateway/src/core/flags.js';
import type { ReadingDraft } from '../../../gateway/src/core/reading.js';
import { Processor } from '../../../gateway/src/processing/engine.js';
import type { ProcessingEvent } from '../../../gateway/src/processing/types.js';
import { BEIJING_DAY, outlet, plan, series } from './helpers.js';

const T0 = BEIJING_DAY + 3 * 3_600_000; // 03:00 Beijing, when the daily calibration runs
const sitePlan = () =>
  plan(
    [series('uv', 'so2', { outlet: 's1' }), series('uv', 'o2', { unit: '%', sourceUnit: '%', outlet: 's1' })],
    [
      outlet('s1', {
        drifts: [
          {
            outlet: 's1',
            device: 'uv',
            point: 'so2_zero_drift',
            of: 'uv/so2',
            check: 'zero',
            tolerance: 2.5,
            unit: '%FS',
          },
          {
            outlet: 's1',
            device: 'uv',
            point: 'so2_span_drift',
            of: 'uv/so2',
            check: 'span',
            tolerance: 2.5,
            unit: '%FS',
          },
        ],
      }),
    ],
  );

/** One poll of the analyzer at second `s`: SO2 and O2 with `flag`, and the two drift registers. */
const poll = (s: number, flag: Flag, zero: number, span: number): ReadingDraft[] => {
  const ts = T0 + s * 1000;
  return [
    { ts, device: 'uv', point: 'so2', value: 35, flag },
    { ts, device: 'uv', point: 'o2', value: 8.6, flag },
    { ts, device: 'uv', point: 'so2_zero_drift', value: zero, flag: 'N' },
    { ts, device: 'uv', point: 'so2_span_drift', value: span, flag: 'N' },
  ];
};

function run(polls: ReadingDraft[][]): ProcessingEvent[] {
  const p = new Processor(sitePlan());
  return polls.flatMap((b) => p.push(b, b[0]!.ts).events).filter((e) => e.kind === 'calibration');
}

describe('calibration records', () => {
  it('records a calibration from the first C reading to the first reading that is neither C nor B', () => {
    const events = run([
      poll(0, 'N', 0.4, -1.2),
      poll(5, 'C', 0.4, -1.2),
      poll(10, 'C', 0.4, -1.2),
      poll(15, 'B', 0.4, -1.2), // the link failed: the calibration may still be running
      poll(20, 'N', 0.4, -1.2),
    ]);
    expect(events.map((e) => e.payload)).toEqual([
      { state: 'started', outlet: 's1', device: 'uv', start: T0 + 5000 },
      { state: 'ended', outlet: 's1', device: 'uv', start: T0 + 5000, end: T0 + 20_000, durationS: 15 },
    ]);
    expect(events.map((e) => e.ts)).toEqual([T0 + 5000, T0 + 20_000]);
  });

  it('records each new zero or span drift as a check, judged against the allowed drift', () => {
    const events = run([
      poll(0, 'N', 0.4, -1.2), // the baseline: not a new check
      poll(5, 'C', 0.4, -1.2),
      poll(10, 'C', 1.1, -1.2), // zero check done: 1.1 %FS, within ±2.5
      poll(15, 'C', 1.1, -3.1), // span check done: -3.1 %FS, beyond ±2.5
      poll(20, 'N', 1.1, -3.1),
    ]).filter((e) => (e.payload as { state: string }).state === 'check');
    expect(events.map((e) => e.payload)).toEqual([
      {
        state: 'check',
        check: 'zero',
        outlet: 's1',
        device: 'uv',
        point: 'so2_zero_drift',
        of: 'uv/so2',
        start: T0 + 10_000,
        drift: 1.1,
        previous: 0.4,
        tolerance: 2.5,
        withinTolerance: true,
        unit: '%FS',
      },
      expect.objectContaining({ check: 'span', drift: -3.1, previous: -1.2, withinTolerance: false }),
    ]);
  });

  it('takes a calibration from measurements alone, on a site without drift registers too', () => {
    const noDrifts = plan(
      [series('uv', 'so2', { outlet: 's1' }), series('dust', 'pm10')],
      [outlet('s1', {})],
    );
    const at = (s: number) => T0 + s * 1000;
    const p = new Processor(noDrifts);
    const events = [
      // A status word flagged C is no measurement: it proves no calibration. A dust monitor's
      // measurement does, without an outlet.
      [{ ts: at(0), device: 'uv', point: 'status', value: 5, flag: 'C' as Flag }],
      [{ ts: at(1), device: 'dust', point: 'pm10', value: 40, flag: 'C' as Flag }],
      [{ ts: at(2), device: 'uv', point: 'so2', value: 35, flag: 'C' as Flag }],
      [{ ts: at(3), device: 'uv', point: 'so2', value: 35, flag: 'N' as Flag }],
    ].flatMap((b) => p.push(b, b[0]!.ts).events.filter((e) => e.kind === 'calibration'));
    expect(events.map((e) => e.payload)).toEqual([
      { state: 'started', device: 'dust', start: at(1) },
      { state: 'started', outlet: 's1', device: 'uv', start: at(2) },
      { state: 'ended', outlet: 's1', device: 'uv', start: at(2), end: at(3), durationS: 1 },
    ]);
  });

  it('records nothing for an analyzer that measures normally with unchanged drift registers', () => {
    expect(run([poll(0, 'N', 0.4, -1.2), poll(5, 'N', 0.4, -1.2), poll(10, 'M', 0.4, -1.2)])).toEqual([]);
  });
});
