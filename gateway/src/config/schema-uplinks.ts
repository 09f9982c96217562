/** The uplink sections of the site-config schema: the MQTT broker and the HJ 212 platforms. */
import { z } from 'zod';
import { mqttSettingsShape, refineMqttSettings } from '../uplink/mqtt/settings.js';
import { Host, Id, int, SecretRef, TimeZone } from './schema-parts.js';

export const MqttTls = z
  .object({
    ca: z.string().min(1).optional().meta({
      description: 'CA certificate (PEM) of the broker, relative to the config file. Absent: system CAs.',
    }),
    cert: z.string().min(1).optional().meta({ description: 'Client certificate (PEM) for mutual TLS.' }),
    key: SecretRef.optional().meta({
      description:
        'Secret holding the path of the client key (PEM); relative paths are relative to the secrets file.',
    }),
    insecureSkipVerifyForTestsOnly: z
      .boolean()
      .meta({
        description:
          'Accept any broker certificate. Refused unless the loader runs with allowInsecureTls (tests).',
      })
      .default(false),
  })
  .strict()
  .superRefine((t, ctx) => {
    if ((t.cert === undefined) !== (t.key === undefined)) {
      ctx.addIssue({ code: 'custom', path: [t.cert ? 'key' : 'cert'], message: 'cert and key go together' });
    }
  });

/** The MQTT uplink: the settings shared with the publisher, plus secret references. */
export const Mqtt = z
  .object({
    ...mqttSettingsShape,
    password: SecretRef.optional().meta({ description: 'Secret holding the broker password.' }),
    tls: MqttTls.optional().meta({ description: 'TLS files; needs an mqtts:// or wss:// url.' }),
  })
  .strict()
  .superRefine(refineMqttSettings);
export type MqttConfig = z.output<typeof Mqtt>;

const MIN_INTERVALS = [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30] as const;
/** A hardware id for CN 1001: printable, none of HJ 212's separators. */
const HardwareId = z
  .string()
  .regex(/^[\x21-\x7e]{1,64}$/, '1-64 printable characters')
  .refine((v) => !/[;,=&#]/.test(v), 'no ; , = & or # (HJ 212 separators)');

export const Hj212Platform = z
  .object({
    host: Host,
    port: int('', 1, 65_535, 'TCP port of the platform.'),
    version: z
      .union([z.literal(2017), z.literal(2025)], { error: 'HJ 212 editions are 2017 and 2025' })
      .meta({ unit: '', description: 'HJ 212 edition the platform speaks.' })
      .default(2017),
    st: z
      .union([z.number().int().min(10).max(99), z.string().regex(/^[0-9A-Z]{2}$/)], {
        error: 'ST is two digits or capitals, e.g. 31',
      })
      .meta({ unit: '', description: 'System code ST: 31 flue gas, 39 construction dust, 22 ambient air.' })
      .default(31)
      .transform(String),
    mn: z
      .string()
      .regex(/^[0-9A-Za-z-]{1,24}$/, '1-24 letters, digits or -')
      .meta({ description: 'Monitoring-point code (MN) the platform issued; usually 24 hex characters.' }),
    password: SecretRef.meta({ description: 'Secret holding the PW field (6 characters in the standard).' }),
    crc: z
      .enum(['hj212', 'modbus', 'modbus-swapped'])
      .meta({
        description:
          'Packet CRC: hj212 (the standard’s); modbus variants only for platforms that expect them.',
      })
      .default('hj212'),
    timezone: TimeZone.meta({ description: 'Time zone of the times in packets (IANA name).' }).default(
      'Asia/Shanghai',
    ),
    outlet: Id.optional().meta({
      description: 'Outlet whose data this platform receives (or give devices).',
    }),
    devices: z
      .array(Id)
      .min(1)
      .optional()
      .meta({ description: 'Devices whose data this platform receives (or give outlet).' }),
    rtdIntervalS: int('s', 30, 3600, 'Real-time upload interval (CN 2011, RtdInterval).').default(60),
    minIntervalMin: z
      .union(
        MIN_INTERVALS.map((n) => z.literal(n)),
        { error: `MinInterval is one of ${MIN_INTERVALS.join(', ')}` },
      )
      .meta({
        unit: 'min',
        description: `Minute-data interval (CN 2051, MinInterval): ${MIN_INTERVALS.join(', ')}.`,
      })
      .default(10),
    send: z
      .object({
        realtime: z.boolean().meta({ description: 'Upload real-time data (CN 2011).' }).default(true),
        minute: z.boolean().meta({ description: 'Upload minute data (CN 2051).' }).default(true),
        hour: z.boolean().meta({ description: 'Upload hourly data (CN 2061).' }).default(true),
        day: z.boolean().meta({ description: 'Upload daily data (CN 2031).' }).default(true),
      })
      .strict()
      .prefault({})
      .meta({ description: 'Which data this platform receives.' }),
    timeoutS: int('s', 1, 120, 'Answer timeout (OverTime) before a packet is sent again.').default(10),
    retries: int('count', 0, 10, 'Resends (ReCount) before the link counts as down.').default(3),
    maxTimeStepS: int(
      's',
      0,
      86_400,
      'Largest clock correction the platform may apply with CN 1012 (set time); 0 refuses every correction.',
    ).default(300),
    heartbeatS: int('s', 10, 3600, 'Heartbeat period (CN 9015). Absent: no heartbeat.').optional(),
    sm4Key: SecretRef.optional().meta({
      description: 'Secret holding the SM4 data-area key (HJ 212-2025). Absent: clear text.',
    }),
    registration: z
      .object({
        dauId: HardwareId.meta({ description: 'DAU id, sent as i23005-Info.' }),
        cpuId: HardwareId.optional().meta({ description: 'CPU id, sent as i23006-Info.' }),
        mac1: HardwareId.optional().meta({ description: 'First MAC address, sent as i23007-Info.' }),
        mac2: HardwareId.optional().meta({ description: 'Second MAC address, sent as i23008-Info.' }),
      })
      .strict()
      .optional()
      .meta({
        description:
          'HJ 212-2025 registration: on connecting, upload these hardware ids with CN 1001. Absent: no registration.',
      }),
    requestKey: z
      .boolean()
      .meta({ description: 'HJ 212-2025: ask the platform for a new SM4 key (CN 1014) on connecting.' })
      .default(false),
  })
  .strict()
  .superRefine((p, ctx) => {
    for (const k of ['registration', 'requestKey'] as const) {
      if (p[k] && p.version !== 2025)
        ctx.addIssue({ code: 'custom', path: [k], message: `${k} exists only in HJ 212-2025` });
    }
    if ((p.outlet === undefined) === (p.devices === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['outlet'], message: 'give exactly one of outlet or devices' });
    }
    if (p.sm4Key && p.version !== 2025) {
      ctx.addIssue({
        code: 'custom',
        path: ['sm4Key'],
        message: 'SM4 encryption exists only in HJ 212-2025',
      });
    }
  });
export type Hj212Config = z.output<typeof Hj212Platform>;
