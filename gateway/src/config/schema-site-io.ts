/**
 * The `siteIo` section: the Firmata board of the site I/O controller (firmware/), its analog
 * transmitters, dry contacts, relays and the linkage rule that drives spray and fog cannons.
 */
import { z } from 'zod';
import { isCanonicalUnit, UNIT_ALIASES } from '../profiles/units.js';
import { Id, int, num, PointRefText } from './schema-parts.js';

/** Digital inputs or outputs keyed by name: a pin, its polarity and any extra options. */
const digitalPins = <E extends z.ZodRawShape>(activeLow: string, extra: E) =>
  z.record(
    Id,
    z
      .object({
        pin: int('', 0, 69, 'Digital pin number on the board.'),
        activeLow: z.boolean().meta({ description: activeLow }).default(false),
        ...extra,
      })
      .strict(),
  );

const seconds = (min: number, max: number, description: string) => int('s', min, max, description);

export const Linkage = z
  .object({
    point: PointRefText.meta({ description: 'The dust point that drives the relay, e.g. dust1/pm10.' }),
    onAbove: num('unit', 0, 1e6, 'Switch on when the point stays above this value for `holdS`.'),
    offBelow: num('unit', 0, 1e6, 'Switch off when the point falls below this value (after `minOnS`).'),
    holdS: seconds(0, 3600, 'How long the point must stay above `onAbove` before switching on.').default(60),
    minOnS: seconds(0, 86_400, 'Shortest time on, once switched on.').default(300),
    minOffS: seconds(0, 86_400, 'Shortest time off, once switched off.').default(120),
    maxRunS: seconds(60, 86_400, 'Longest continuous run; then off for at least `minOffS`.').default(3600),
    windPoint: PointRefText.optional().meta({ description: 'Wind speed point for the wind cut-off.' }),
    windCutOff: num('m/s', 0, 100, 'Off while the wind speed is above this (spray would drift).').optional(),
    alertOnS: seconds(1, 86_400, 'On an orange or red alert: seconds on in each cycle.').default(600),
    alertOffS: seconds(0, 86_400, 'On an orange or red alert: seconds off in each cycle.').default(1200),
  })
  .strict()
  .refine((l) => l.offBelow <= l.onAbove, { error: 'offBelow must not be above onAbove', path: ['offBelow'] })
  .refine((l) => (l.windPoint === undefined) === (l.windCutOff === undefined), {
    error: 'give windPoint and windCutOff together',
    path: ['windCutOff'],
  });

export const Beacon = z
  .object({
    pin: int('', 0, 69, 'Digital pin driving the beacon (a relay module or a lamp driver).'),
    activeLow: z
      .boolean()
      .meta({ description: 'The beacon lights when the pin is driven low.' })
      .default(false),
    blinkMs: int('ms', 100, 5000, 'Half-period of the blinking (on this long, then off this long).').default(
      500,
    ),
    alertFrom: z
      .enum(['blue', 'yellow', 'orange', 'red'])
      .meta({
        description: 'Lowest heavy-pollution alert level (from the platform) that makes the beacon blink.',
      })
      .default('orange'),
  })
  .strict();

export const SiteIo = z
  .object({
    board: z
      .object({
        port: z.string().min(1).meta({ description: 'Serial port of the Firmata board, e.g. /dev/ttyACM0.' }),
        baud: int('bit/s', 9600, 115_200, 'Firmata baud rate.').default(57_600),
      })
      .strict()
      .meta({ description: 'The Firmata board running the site I/O firmware.' }),
    device: Id.meta({
      description: 'Device id its readings carry in the log (point = input or relay name).',
    }).default('site-io'),
    periodS: int('s', 1, 3600, 'How often analog inputs, contacts and relay states are logged.').default(10),
    staleAfterMs: int(
      'ms',
      200,
      60_000,
      'An input with no report from the board for this long is stale; the link is checked at the same bound.',
    ).default(3000),
    analogInputs: z
      .record(
        Id,
        z
          .object({
            pin: z
              .string()
              .regex(/^A[0-9]{1,2}$/, 'analog pins are A0, A1, …')
              .meta({ description: 'Analog pin, A0…A15.' }),
            signal: z.enum(['4-20mA', '0-10V']).meta({ description: 'Electrical signal.' }).default('4-20mA'),
            range: z.tuple([z.number(), z.number()]).meta({
              unit: 'unit',
              description: 'Values at the bottom and top of the signal, e.g. [0, 100].',
            }),
            unit: z
              .string()
              .refine(isCanonicalUnit, {
                error: (iss) => {
                  const canonical = typeof iss.input === 'string' ? UNIT_ALIASES[iss.input] : undefined;
                  return canonical === undefined
                    ? 'not a canonical unit (see gateway/src/profiles/units.ts)'
                    : `write ${canonical}`;
                },
              })
              .meta({ description: 'Unit of the scaled value.' }),
            shuntOhms: num(
              'Ω',
              100,
              500,
              '4-20 mA only: the shunt resistor that turns the current into a voltage.',
            ).default(220),
          })
          .strict(),
      )
      .default({})
      .meta({ description: 'Analog inputs (4-20 mA or 0-10 V transmitters), keyed by point key.' }),
    dryContacts: digitalPins('The contact is active when the pin reads low.', {
      role: z
        .enum(['door', 'mains', 'maintenance', 'calibration', 'status'])
        .meta({
          description:
            'door: opening is a tamper event; mains: loss is a mains_failure event; maintenance / calibration: flags the readings of `device` M / C while active; status: logged only.',
        })
        .default('status'),
      device: Id.optional().meta({
        description: 'The analyzer a maintenance or calibration contact belongs to.',
      }),
    })
      .default({})
      .meta({ description: 'Dry-contact inputs (door, power, analyzer status), keyed by name.' }),
    relays: digitalPins('The relay energises when the pin is driven low.', {
      failSafe: z
        .enum(['off', 'on'])
        .meta({ description: 'State the relay is put in when its inputs go stale or the board link drops.' })
        .default('off'),
      linkage: Linkage.optional().meta({
        description: 'The rule that switches this relay (spray, fog cannon).',
      }),
    })
      .default({})
      .meta({ description: 'Relay outputs (spray, fog cannon, alarm light), keyed by name.' }),
    beacon: Beacon.optional().meta({
      description:
        'Status beacon: steady while all is well; blinking on a fault (stale inputs, a 4-20 mA fault, the door open, mains failure) or an alert. Absent: none.',
    }),
    overrideMaxS: int(
      's',
      60,
      604_800,
      'Longest manual override the platform may set with relay-override (its durationS is refused above this).',
    ).default(14_400),
  })
  .strict();

export type SiteIoConfig = z.output<typeof SiteIo>;
export type LinkageConfig = z.output<typeof Linkage>;
export type BeaconConfig = z.output<typeof Beacon>;
