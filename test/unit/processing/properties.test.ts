import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Flag } from '../../../gateway/src/core/flags.js';
import { correctToReferenceO2 } from '../../../gateway/src/processing/conversions.js';
import { Processor } from '../../../gateway/src/processing/engine.js';
const EXCLUDED_FLAGS: ReadonlySet<Flag> = new Set<Flag>(['C', 'M', 'D', 'F', 'B', 'T']);
import { BEIJING_DAY, MIN, minuteOf, plan, series } from './helpers.js';

const FLAGS: Flag[] = ['N', 'S', 'C', 'M', 'D', 'F', 'B', 'T'];

describe('aggregation properties', () => {
  it('never flags N an hour with fewer than 45 valid minutes', () => {
    // each minute: absent, or twelve samples of one flag, or too few samples
    const minuteKind = fc.oneof(
      fc.constant('absent' as const),
      fc.constant('short' as const),
      fc.constantFrom(...FLAGS),
    );
    fc.assert(
      fc.property(fc.array(minuteKind, { minLength: 60, maxLength: 60 }), (kinds) => {
        const p = new Processor(plan([series('gas', 'so2')]));
        const out = kinds.flatMap((k, m) => {
          if (k === 'absent') return [];
          const n = k === 'short' ? 11 : 12;
          const flag: Flag = k === 'short' ? 'N' : k;
          return minuteOf(
            'gas',
            'so2',
            BEIJING_DAY + m * MIN,
            () => 1,
            () => flag,
            n,
          ).flatMap((r) => p.push([r], r.ts).aggregates);
        });
        out.push(...p.flush().aggregates);
        const valid = kinds.filter((k) => k === 'N' || k === 'S').length;
        const hour = out.find((a) => a.period === 'hour');
        if (valid === 0 && kinds.every((k) => k === 'absent')) return expect(hour).toBeUndefined();
        expect(hour!.count).toBe(valid);
        if (valid < 45) expect(hour!.flag).not.toBe('N');
        else expect(['N', 'S']).toContain(hour!.flag);
      }),
      { numRuns: 150 },
    );
  });

  it('never lets a C, M, D, F, B or T sample into a minimum, mean or maximum', () => {
    // excluded samples carry values above 1000; counted ones stay in [0, 1000]
    const sample = fc.record({
      flag: fc.constantFrom(...FLAGS),
      v: fc.double({ min: 0, max: 1000, noNaN: true }),
    });
    fc.assert(
      fc.property(
        fc.array(fc.array(sample, { minLength: 1, maxLength: 14 }), { minLength: 1, maxLength: 50 }),
        (minutes) => {
          const p = new Processor(plan([series('gas', 'so2', { minSamples: 3 })]));
          const readings = minutes.flatMap((samples, m) =>
            samples.map((s, i) => ({
              ts: BEIJING_DAY + m * MIN + i * 4000,
              device: 'gas',
              point: 'so2',
              value: EXCLUDED_FLAGS.has(s.flag) ? 5000 + s.v : s.v,
              flag: s.flag,
            })),
          );
          const out = readings.flatMap((r) => p.push([r], r.ts).aggregates);
          out.push(...p.flush().aggregates);
          for (const a of out) {
            for (const v of [a.min, a.avg, a.max]) if (v !== null) expect(v).toBeLessThanOrEqual(1000);
          }
          const counted = minutes.flat().filter((s) => !EXCLUDED_FLAGS.has(s.flag)).length;
          expect(out.filter((a) => a.period === 'minute').reduce((n, a) => n + a.count, 0)).toBe(counted);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('converts to reference O2 monotonically in the measured O2', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 5000, noNaN: true }),
        fc.double({ min: 0, max: 25, noNaN: true }),
        fc.double({ min: 0, max: 25, noNaN: true }),
        fc.double({ min: 0, max: 20, noNaN: true }),
        (c, a, b, ref) => {
          const [lo, hi] = a <= b ? [a, b] : [b, a];
          expect(correctToReferenceO2(c, lo, ref).value).toBeLessThanOrEqual(
            correctToReferenceO2(c, hi, ref).value,
          );
          expect(Number.isFinite(correctToReferenceO2(c, hi, ref).value)).toBe(true);
        },
      ),
    );
  });
});
