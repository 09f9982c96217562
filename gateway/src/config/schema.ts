/**
 * The site-config schema (version 1). Defaults, units, ranges and descriptions live here (and in
 * schema-parts.ts, schema-uplinks.ts) and nowhere else: docs/config.md's option table is generated
 * from them. Durations and sizes are plain numbers whose unit is in the key name (`periodMs`, `quotaMb`).
 */
import { z } from 'zod';
import { ByteOrder, ProfileFile, Quirks, WordOrder } from '../profiles/schema.js';
import { Host, Id, int, num, PointKey, PointRefText, SecretRef, TimeZone } from './schema-parts.js';
import { Hj212Platform, Mqtt } from './schema-uplinks.js';
import { lineSettingError } from './line-settings.js';

export * from './schema-parts.js';
export * from './schema-uplinks.js';

export const CURRENT_VERSION = 1;

const STANDARD_BAUDS = [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200] as const;

/** The RS-485 line itself; on rtu-over-tcp buses it sets the wire-time model and timeouts. */
const serialLine = {
  baud: z
    .union(
      STANDARD_BAUDS.map((b) => z.literal(b)),
      { error: lineSettingError(`not a standard baud rate (${STANDARD_BAUDS.join(', ')})`) },
    )
    .meta({ unit: 'bit/s', description: 'Baud rate of the RS-485 line.' })
    .default(9600),
  dataBits: z
    .union([z.literal(7), z.literal(8)], { error: lineSettingError('data bits are 7 or 8') })
    .meta({ unit: 'bits', description: 'Data bits per character.' })
    .default(8),
  parity: z
    .enum(['none', 'even', 'odd'], { error: lineSettingError('parity is none, even or odd', true) })
    .meta({ description: 'Parity bit: none, even or odd (N, E, O in the short 8N1 notation).' })
    .default('none'),
  stopBits: z
    .union([z.literal(1), z.literal(2)], { error: lineSettingError('stop bits are 1 or 2') })
    .meta({ unit: 'bits', description: 'Stop bits per character.' })
    .default(1),
};

const busCommon = {
  description: z.string().optional().meta({ description: 'Free text: where the cable runs, which port.' }),
  timeoutMs: int(
    'ms',
    10,
    30_000,
    'Reply timeout for every device on the bus. Absent: each device profile’s timeoutMs.',
  ).optional(),
  retries: int('count', 0, 5, 'Extra attempts after a timeout or bad frame before a poll fails.').default(1),
  interFrameDelayMs: num(
    'ms',
    0,
    1000,
    'Silence kept between the end of one transaction and the next request. Absent: 3.5 character times at the line’s baud (at least 1.75 ms) on serial lines, 0 on Modbus TCP.',
  ).optional(),
};

const tcpCommon = {
  host: Host,
  connectTimeoutMs: int('ms', 100, 60_000, 'Time allowed to open the TCP connection.').default(3000),
  reconnectMaxMs: int(
    'ms',
    1000,
    600_000,
    'Longest wait between reconnection attempts; the wait doubles from 1 s up to this.',
  ).default(30_000),
};

export const SerialBus = z
  .object({
    kind: z.literal('serial').meta({ description: 'Modbus RTU on a local serial port.' }),
    port: z
      .string()
      .min(1)
      .meta({ description: 'Serial device path, e.g. /dev/ttyUSB0 or a /dev/serial/by-id/ link.' }),
    ...serialLine,
    ...busCommon,
  })
  .strict();

export const TcpBus = z
  .object({
    kind: z.literal('tcp').meta({ description: 'Modbus TCP (MBAP framing) to a device or gateway.' }),
    ...tcpCommon,
    port: int('', 1, 65_535, 'TCP port.').default(502),
    maxInFlight: int(
      'count',
      1,
      16,
      'Requests outstanding at once on the connection, told apart by their MBAP transaction id. 1 waits for each answer before the next request; more suits a server with several devices behind it that queues requests (a Modbus TCP gateway, a PLC), above all over a link with a long round trip. A device’s own reads still go one at a time; requests made in the same moment share one TCP segment.',
    ).default(1),
    ...busCommon,
  })
  .strict();

export const RtuOverTcpBus = z
  .object({
    kind: z
      .literal('rtu-over-tcp')
      .meta({ description: 'RTU frames through a transparent serial device server (DTU).' }),
    ...tcpCommon,
    port: int('', 1, 65_535, 'TCP port of the serial device server.'),
    ...serialLine,
    ...busCommon,
  })
  .strict();

export const Bus = z.discriminatedUnion('kind', [SerialBus, TcpBus, RtuOverTcpBus], {
  error: (iss) => (iss.code === 'invalid_union' ? 'kind is serial, tcp or rtu-over-tcp' : undefined),
});
export type BusConfig = z.output<typeof Bus>;

/** Profile quirks a device entry may override; absent keys keep the profile's value. */
const quirk = <K extends 'minGapMs' | 'maxReadRegisters' | 'maxReadBits' | 'bootDelayMs' | 'turnaroundMs'>(
  key: K,
  unit: string,
) =>
  Quirks.shape[key]
    .removeDefault()
    .meta({ unit, description: `${Quirks.shape[key].description ?? key} Absent: the profile’s value.` })
    .optional();

export const PointOverride = z
  .object({
    scale: z
      .number()
      .optional()
      .meta({ unit: '', description: 'Replaces the profile’s scale (value = raw × scale + offset).' }),
    offset: z
      .number()
      .optional()
      .meta({ unit: 'point unit', description: 'Replaces the profile’s offset, in the point’s unit.' }),
  })
  .strict();

export const DeviceOverrides = z
  .object({
    timeoutMs: int(
      'ms',
      10,
      30_000,
      'Reply timeout for this device. Absent: the bus’s, then the profile’s.',
    ).optional(),
    retries: int('count', 0, 5, 'Retries for this device. Absent: the bus’s.').optional(),
    minGapMs: quirk('minGapMs', 'ms'),
    maxReadRegisters: quirk('maxReadRegisters', 'registers'),
    maxReadBits: quirk('maxReadBits', 'bits'),
    bootDelayMs: quirk('bootDelayMs', 'ms'),
    turnaroundMs: quirk('turnaroundMs', 'ms'),
    wordOrder: WordOrder.optional().meta({
      description:
        'Word order of every value over more than one register on this device, for a unit whose firmware differs from its profile: high-first (ABCD) or low-first (CDAB). Absent: each point’s profile order.',
    }),
    byteOrder: ByteOrder.optional().meta({
      description:
        'Byte order inside each register of every numeric or text point on this device: big (AB) or little (BA). Absent: each point’s profile order.',
    }),
    points: z
      .record(PointKey, PointOverride)
      .optional()
      .meta({ description: 'Per-point scale/offset changes, keyed by the profile’s point key.' }),
    skip: z
      .array(PointKey)
      .optional()
      .meta({ description: 'Point keys not to poll (e.g. a sensor the unit is not fitted with).' }),
  })
  .strict();

export const Device = z
  .object({
    name: z.string().optional().meta({ description: 'Human-readable name.' }),
    profile: ProfileFile.shape.id.meta({
      description: 'Device-profile id, vendor.model (see device-profiles/).',
    }),
    bus: Id.meta({ description: 'Id of the bus the device is on.' }),
    unitId: int(
      '',
      0,
      255,
      'Modbus unit id (slave address): 1-247 on serial lines and rtu-over-tcp, 0-255 on Modbus TCP.',
    ),
    periodMs: int('ms', 100, 86_400_000, 'Time between the starts of two polls of this device.').default(
      5000,
    ),
    enabled: z
      .boolean()
      .meta({ description: 'false keeps the entry but never polls the device.' })
      .default(true),
    overrides: DeviceOverrides.optional().meta({ description: 'Per-device changes to the profile and bus.' }),
  })
  .strict();
export type DeviceConfig = z.output<typeof Device>;

export const Limit = z
  .object({
    max: num('point unit', 0, 1e9, 'Emission limit, in the unit of the point.'),
    averaging: z
      .enum(['minute', 'hour', 'day'])
      .meta({ description: 'Averaging period the limit applies to.' })
      .default('hour'),
    corrected: z.boolean().optional().meta({
      description:
        'Compare the value converted to reference O2. Absent: true when the outlet has referenceO2Pct.',
    }),
    warningPct: num(
      '%',
      1,
      100,
      'Early warning when the period value reaches this share of max (an `alarm` event).',
    ).default(90),
  })
  .strict();

export const Calibration = z
  .object({
    zeroDrift: PointRefText.optional().meta({
      description: 'Point giving the drift found by the last zero check.',
    }),
    spanDrift: PointRefText.optional().meta({
      description: 'Point giving the drift found by the last span check.',
    }),
    zeroTolerance: num(
      'drift point unit',
      0,
      100,
      'Allowed |zero drift|, in the drift point’s unit (%FS on the SCS-900): HJ 75-2017 daily check, 2.5 for gas analyzers, 2.0 for particulate.',
    ).default(2.5),
    spanTolerance: num(
      'drift point unit',
      0,
      100,
      'Allowed |span drift|, in the drift point’s unit: HJ 75-2017 daily check, 2.5 for gas analyzers, 2.0 for particulate.',
    ).default(2.5),
  })
  .strict();

const FLUE_KEYS = ['temperature', 'pressure', 'moisture', 'velocity', 'flow'] as const;
export const Outlet = z
  .object({
    name: z.string().min(1).meta({ description: 'Human-readable name, e.g. "1# boiler stack".' }),
    devices: z.array(Id).min(1).meta({ description: 'Devices whose readings belong to this outlet.' }),
    referenceO2Pct: num(
      '%',
      0,
      20.9,
      'Reference O2 of the emission standard; concentrations are also reported converted to it. Absent: no conversion.',
    ).optional(),
    o2: PointRefText.optional().meta({
      description: 'Point giving the measured O2 (%, dry); needed with referenceO2Pct.',
    }),
    flue: z
      .object(
        Object.fromEntries(
          FLUE_KEYS.map((k) => [
            k,
            PointRefText.optional().meta({ description: `Point giving the flue-gas ${k}.` }),
          ]),
        ) as Record<(typeof FLUE_KEYS)[number], z.ZodOptional<typeof PointRefText>>,
      )
      .strict()
      .optional()
      .meta({ description: 'Flue-gas condition points used for standard-state conversion and flow.' }),
    o2GuardPct: num(
      '%',
      1,
      20.9,
      'Measured O2 at or above this is held at it for the reference-O2 conversion, which grows without bound near 21 %.',
    ).default(19),
    ductAreaM2: num(
      'm2',
      0.001,
      1000,
      'Inner cross-section of the duct at the velocity probe; needed to compute the flow from flue.velocity.',
    ).optional(),
    ambientPressureKpa: num(
      'kPa',
      50,
      110,
      'Ambient (barometric) pressure added to the flue static pressure, which profiles report as gauge.',
    ).default(101.325),
    minSamplesPerMinute: int(
      'count',
      1,
      600,
      'Valid samples a minute value needs (HJ 75: 12 at one sample every 5 s). Absent: 12, or fewer when a device polls slower.',
    ).optional(),
    limits: z
      .record(PointRefText, Limit)
      .default({})
      .meta({ description: 'Emission limits keyed by `device/point`.' }),
    calibration: z.record(PointRefText, Calibration).default({}).meta({
      description:
        'Zero and span drift registers of an analyzer, keyed by the measured `device/point`: each new value is a `calibration` check event.',
    }),
  })
  .strict()
  .superRefine((o, ctx) => {
    if (o.referenceO2Pct !== undefined && o.o2 === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['o2'],
        message: 'referenceO2Pct needs o2: the point giving measured O2',
      });
    }
    if (o.flue?.velocity !== undefined && o.flue.flow === undefined && o.ductAreaM2 === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['ductAreaM2'],
        message: 'flue.velocity needs ductAreaM2 to give a flow (or give flue.flow)',
      });
    }
  })
  .transform((o) => ({
    ...o,
    limits: Object.fromEntries(
      Object.entries(o.limits).map(([ref, l]) => [
        ref,
        { ...l, corrected: l.corrected ?? o.referenceO2Pct !== undefined },
      ]),
    ),
  }));
export type OutletConfig = z.output<typeof Outlet>;

export const QualityChecks = z
  .object({
    staleMinutes: num(
      'min',
      0,
      1440,
      'The same register words, bit for bit, for this long mark readings `stale` (the source is not refreshing); 0: off.',
    ).default(10),
    flatLineMinutes: num(
      'min',
      0,
      10_080,
      'Values within flatLineTolerancePct for this long mark readings `flat_line`; 0: off.',
    ).default(60),
    flatLineTolerancePct: num(
      '% of range',
      0,
      100,
      'Band a flat line stays in, as a share of the point’s measuring range (points without a range: exactly equal values).',
    ).default(0.5),
    spikePctOfRange: num(
      '% of range',
      0,
      100,
      'A jump of more than this share of the measuring range from the median of the last 5 valid values marks a `spike` (points with a range only); 0: off.',
    ).default(25),
    clipBandPct: num(
      '% of limit',
      0.1,
      50,
      'Band just under an emission limit: values held in it for clipMinutes are `clipped_below_limit`.',
    ).default(5),
    clipMinutes: num(
      'min',
      0,
      1440,
      'How long every valid value must stay in clipBandPct under a limit to be marked; 0: off.',
    ).default(60),
    clockSync: z
      .enum(['timesyncd', 'none'])
      .meta({
        description:
          'How to tell the clock is synchronised: timesyncd reads /run/systemd/timesync/synchronized (readings taken while it is absent are `clock_unsynchronised`); none: never marked.',
      })
      .default('none'),
  })
  .strict();
export type QualityConfig = z.output<typeof QualityChecks>;

export const Storage = z
  .object({
    path: z.string().min(1).meta({
      description: 'SQLite log file, relative to the config file or absolute, e.g. /var/lib/lantian/log.db.',
    }),
    quotaMb: int(
      'MiB',
      16,
      1_000_000,
      'Disk space the log may use; beyond it the oldest data goes (recorded as a gap).',
    ).default(1024),
    retentionDays: int(
      'd',
      1,
      3650,
      'Age after which data every uplink has acknowledged is deleted.',
    ).default(400),
  })
  .strict();

export { SiteIo } from './schema-site-io.js';
import { SiteIo } from './schema-site-io.js';
import { PmSensors } from './schema-pm-sensors.js';
import { Cameras } from './schema-cameras.js';
import { Dust } from './schema-dust.js';

const LOOPBACK = /^(127\.[0-9.]+|::1|localhost)$/;
export const isLoopbackHost = (host: string): boolean => LOOPBACK.test(host);

/** The local web page (gateway/src/api): read-only, and never anonymous beyond this machine. */
export const Web = z
  .object({
    host: Host.meta({
      description:
        'Address the page listens on: 127.0.0.1 for this machine only, 0.0.0.0 for every interface.',
    }).default('127.0.0.1'),
    port: int('', 0, 65_535, 'TCP port of the page; 0 picks a free one (tests).').default(8080),
    password: SecretRef.optional().meta({
      description:
        'Secret holding the password (HTTP Basic, any user name) or bearer token. Needed unless host is a loopback address.',
    }),
  })
  .strict()
  .superRefine((w, ctx) => {
    if (w.password === undefined && !isLoopbackHost(w.host)) {
      ctx.addIssue({
        code: 'custom',
        path: ['password'],
        message: `the page would be open to anyone who reaches ${w.host}: give password (a secret)`,
      });
    }
  });
export type WebConfig = z.output<typeof Web>;

export const SiteConfigSchema = z
  .object({
    $schema: z.string().optional().meta({ description: 'Editor hint; ignored.' }),
    version: z
      .literal(CURRENT_VERSION, { error: `the current version is ${CURRENT_VERSION}` })
      .meta({ unit: '', description: `Format version of this file; current: ${CURRENT_VERSION}.` }),
    site: z
      .object({
        id: Id.meta({ description: 'Site id.' }),
        name: z.string().min(1).max(200).meta({ description: 'Human-readable site name.' }),
        timezone: TimeZone.meta({
          description: 'IANA time zone of the site, for local times in reports.',
        }).default('Asia/Shanghai'),
      })
      .strict()
      .meta({ description: 'The site the gateway serves.' }),
    gateway: z
      .object({
        id: Id.meta({ description: 'Gateway id; appears in every MQTT topic.' }),
        name: z.string().optional().meta({ description: 'Human-readable name.' }),
        acquisitionThread: z.boolean().default(false).meta({
          description:
            'Poll the buses in a worker thread of their own, on the second core, so commits and uplinks never delay a reply (docs/acquisition.md, "Threads"). Pays with many fast devices; tcp and rtu-over-tcp buses only.',
        }),
      })
      .strict()
      .meta({ description: 'This gateway.' }),
    secretsFile: z
      .string()
      .min(1)
      .optional()
      .meta({ description: 'Secrets file, relative to this file; `--secrets` on the command line wins.' }),
    buses: z.record(Id, Bus).meta({ description: 'Physical buses, keyed by bus id.' }),
    devices: z.record(Id, Device).meta({ description: 'Polled devices, keyed by device id.' }),
    outlets: z.record(Id, Outlet).default({}).meta({ description: 'Outlets (stacks), keyed by outlet id.' }),
    quality: QualityChecks.prefault({}).meta({
      description: 'Data-quality checks: reasons added to readings, never a changed value or flag.',
    }),
    uplinks: z
      .object({
        mqtt: Mqtt.optional().meta({ description: 'The MQTT uplink.' }),
        hj212: z
          .record(Id, Hj212Platform)
          .default({})
          .meta({ description: 'HJ 212 platforms, keyed by a name of your choice.' }),
      })
      .strict()
      .prefault({})
      .meta({ description: 'Where data goes: one MQTT broker and any number of HJ 212 platforms.' }),
    storage: Storage.meta({ description: 'The local log.' }),
    siteIo: SiteIo.optional().meta({ description: 'The site I/O controller (firmware board).' }),
    pmSensors: PmSensors,
    cameras: Cameras,
    dust: Dust.optional().meta({
      description: 'Dust-site limits and the high-wind rule (docs/processing.md, "Dust sites").',
    }),
    web: Web.optional().meta({ description: 'The local web page (docs/web.md). Absent: no page.' }),
  })
  .strict();

export type SiteConfig = z.output<typeof SiteConfigSchema>;
export type SiteConfigInput = z.input<typeof SiteConfigSchema>;

/** Sections parsed entry by entry, so cross-reference checks can still run on the good entries. */
export const ENTRY_SCHEMAS = {
  buses: Bus,
  devices: Device,
  outlets: Outlet,
} as const;
