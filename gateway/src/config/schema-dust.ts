/**
 * The `dust` section: a construction site's dust limits and its high-wind rule. The 15-minute
 * and hourly averages themselves need no setting: every PM point (HJ 212 a34001 TSP, a34002 PM10,
 * a34004 PM2.5, and the UART sensors' pm points) gets them (docs/processing.md, "Dust sites").
 */
import { z } from 'zod';
import { int, num, PointRefText } from './schema-parts.js';

export const DustLimit = z
  .object({
    max: num(
      'µg/m3',
      0,
      1e6,
      'Limit, in the unit of the point (µg/m3 for the dust monitors and UART sensors).',
    ),
    averaging: z
      .enum(['realtime', 'minute', 'quarter_hour', 'hour'])
      .meta({
        description:
          'Averaging period the limit applies to (quarter_hour: 15 minutes; realtime: every valid reading, as platforms that alarm on real-time values do).',
      })
      .default('hour'),
    minusReference: z
      .boolean()
      .meta({
        description:
          'Judge the period value minus `districtReference` (the local standards that limit the excess over the district’s own PM10), not the value itself.',
      })
      .default(false),
    warningPct: num(
      '%',
      1,
      100,
      'Early warning when the judged value reaches this share of max (an `alarm` event).',
    ).default(90),
  })
  .strict();

export const HighWind = z
  .object({
    point: PointRefText.meta({ description: 'The wind-speed point, e.g. dust1/wind_speed (m/s).' }),
    above: num(
      'm/s',
      0,
      100,
      'High wind once the speed stays above this for `holdS` (10.8 m/s is Beaufort 6).',
    ),
    below: num(
      'm/s',
      0,
      100,
      'High wind ends once the speed stays below this for `clearS`. Absent: `above`.',
    ).optional(),
    holdS: int('s', 0, 3600, 'How long the speed must stay above `above`.').default(60),
    clearS: int('s', 0, 86_400, 'How long the speed must stay below `below` before high wind ends.').default(
      600,
    ),
    periodMs: int(
      'ms',
      100,
      3_600_000,
      'Poll period of the dust monitors (and the wind point’s device) during high wind.',
    ).default(1000),
  })
  .strict()
  .refine((w) => w.below === undefined || w.below <= w.above, {
    error: 'below must not be above `above`',
    path: ['below'],
  });

export const Dust = z
  .object({
    limits: z
      .record(PointRefText, DustLimit)
      .default({})
      .meta({ description: 'Site limits keyed by dust point, e.g. dust1/pm10: { max: 150 }.' }),
    districtReference: num(
      'µg/m3',
      0,
      1e6,
      'The district’s reference PM10 (its hourly mean published by the authority), subtracted by limits with minusReference.',
    ).optional(),
    highWind: HighWind.optional().meta({
      description: 'Above a wind speed: the dust monitors poll faster and a high_wind event is raised.',
    }),
  })
  .strict()
  .superRefine((d, ctx) => {
    for (const [ref, l] of Object.entries(d.limits)) {
      if (l.minusReference && d.districtReference === undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['limits', ref, 'minusReference'],
          message: 'minusReference needs districtReference',
        });
    }
  });

export type DustConfig = z.output<typeof Dust>;
