/**
 * The MQTT settings: one zod schema and one set of defaults for both the site config
 * (`uplinks.mqtt`, which adds secret references for the password and TLS key) and the
 * publisher's options (which add the gateway id and resolved secrets). docs/config.md is
 * generated from these descriptions; docs/mqtt.md points there instead of repeating them.
 */
import { z } from 'zod';
import { int } from '../../config/schema-parts.js';

/** Schemes mqtt.js speaks in Node: TCP, TLS, WebSocket and WebSocket over TLS. */
export const MQTT_URL = /^(mqtts?|wss?):\/\/[^/\s]+/;
export const TLS_URL = /^(mqtts|wss):/;
export const DEFAULT_TOPIC_ROOT = 'lantian/v1';

export const mqttSettingsShape = {
  url: z.string().regex(MQTT_URL, 'use mqtt://host:port, mqtts://, ws:// or wss://').meta({
    description: 'Broker URL: mqtt://, mqtts://, ws:// or wss://, e.g. mqtts://broker.example.cn:8883.',
  }),
  clientId: z.string().min(1).max(128).optional().meta({
    description:
      'MQTT client id; keep it stable across restarts (persistent session). Absent: lantian-<gateway id>.',
  }),
  topicRoot: z
    .string()
    .regex(/^[^#+\s]*[^#+\s/]$/, 'no wildcards, spaces or trailing /')
    .meta({ description: 'Topics are <topicRoot>/<gateway id>/….' })
    .default(DEFAULT_TOPIC_ROOT),
  username: z.string().min(1).optional().meta({ description: 'Broker user name.' }),
  keepaliveS: int('s', 5, 3600, 'MQTT keep-alive interval.').default(30),
  reconnectPeriodMs: int(
    'ms',
    100,
    300_000,
    'Wait before reconnecting after a lost connection; the first wait after a refused login.',
  ).default(2000),
  reconnectMaxMs: int(
    'ms',
    100,
    3_600_000,
    'Longest wait between attempts while the broker keeps refusing the login (the wait doubles).',
  ).default(60_000),
  batch: z
    .object({
      maxReadings: int('readings', 1, 10_000, 'Largest number of readings in one data message.').default(500),
      lingerMs: int(
        'ms',
        0,
        60_000,
        'Longest time a live reading waits for its batch to fill while an earlier live message awaits its PUBACK; with none outstanding it goes at once.',
      ).default(1000),
    })
    .strict()
    .prefault({})
    .meta({ description: 'How readings are grouped into data messages.' }),
  inFlight: int('messages', 1, 1000, 'Messages published and not yet acknowledged (PUBACK) at once.').default(
    16,
  ),
  maxMessageBytes: int(
    'bytes',
    1024,
    268_435_455,
    'Largest payload of one message; bigger batches are split to fit (a single record is never split).',
  ).default(128 * 1024),
  signingKey: z.string().min(1).optional().meta({
    description:
      'Private key file (PEM, made by `lantian keys init`, mode 0600) that seals every record message; relative to the config file. Absent: messages go out unsealed and `lantian verify` reports them as unsigned.',
  }),
  healthIntervalMs: int(
    'ms',
    1000,
    3_600_000,
    'How often the retained health message (backlog, bus and device health) is refreshed.',
  ).default(10_000),
};

/** Rules across fields, for both schemas. */
export function refineMqttSettings(
  m: { url: string; username?: string | undefined; password?: unknown; tls?: unknown },
  ctx: z.RefinementCtx,
): void {
  if (m.password !== undefined && m.username === undefined)
    ctx.addIssue({ code: 'custom', path: ['username'], message: 'password needs a username' });
  if (m.tls !== undefined && !TLS_URL.test(m.url)) {
    ctx.addIssue({
      code: 'custom',
      path: ['url'],
      message: 'tls is set but the url is not mqtts:// or wss://',
    });
  }
}
