/** The uplink sections of the site-config schema: the MQTT broker and the HJ 212 platforms. */
import { z } from 'zod';
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

export const Mqtt = z
  .object({
    url: z
      .string()
      .regex(/^(mqtts?|wss?):\/\/[^/\s]+/, 'use mqtt://host:port, mqtts://, ws:// or wss://')
      .meta({ description: 'Broker URL, e.g. mqtts://broker.example.cn:8883.' }),
    clientId: z
      .string()
      .min(1)
      .max(128)
      .optional()
      .meta({ description: 'MQTT client id. Absent: lantian-<gateway id>.' }),
    topicRoot: z
      .string()
      .regex(/^[^#+\s]*[^#+\s/]$/, 'no wildcards, spaces or trailing /')
      .meta({ description: 'Topics are <topicRoot>/<gateway id>/….' })
      .default('lantian/v1'),
    username: z.string().min(1).optional().meta({ description: 'Broker user name.' }),
    password: SecretRef.optional().meta({ description: 'Secret holding the broker password.' }),
    tls: MqttTls.optional().meta({ description: 'TLS files; needs an mqtts:// or wss:// url.' }),
    keepaliveS: int('s', 5, 3600, 'MQTT keep-alive interval.').default(30),
    batch: z
      .object({
        maxReadings: int('readings', 1, 10_000, 'Largest number of readings in one data message.').default(
          500,
        ),
        lingerMs: int('ms', 0, 60_000, 'Longest time a reading waits for its batch to fill.').default(1000),
      })
      .strict()
      .prefault({})
      .meta({ description: 'How readings are grouped into data messages.' }),
    inFlight: int('batches', 1, 100, 'Batches published and not yet acknowledged (PUBACK) at once.').default(
      4,
    ),
    healthIntervalMs: int(
      'ms',
      1000,
      3_600_000,
      'How often the retained health message (backlog, bus and device health) is refreshed.',
    ).default(10_000),
  })
  .strict()
  .superRefine((m, ctx) => {
    if (m.password && !m.username)
      ctx.addIssue({ code: 'custom', path: ['username'], message: 'password needs a username' });
    if (m.tls && /^(mqtt|ws):/.test(m.url)) {
      ctx.addIssue({
        code: 'custom',
        path: ['url'],
        message: 'tls is set but the url is not mqtts:// or wss://',
      });
    }
  });
export type MqttConfig = z.output<typeof Mqtt>;

const MIN_INTERVALS = [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30] as const;
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
  })
  .strict()
  .superRefine((p, ctx) => {
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
