/**
 * Options of the MQTT uplink (the lead maps the site config onto them) and their translation
 * into mqtt.js client options, TLS files included.
 */
import { readFileSync } from 'node:fs';
import type { IClientOptions } from 'mqtt';
import { z } from 'zod';
import { LantianError } from '../../core/errors.js';
import { formatPath } from '../../core/yaml.js';
import { CONTRACT_VERSION, defaultTopicRoot, topics, type StateMessage } from './contract.js';

export const mqttUplinkOptionsSchema = z
  .object({
    /** Broker URL: `mqtt://host:1883` or `mqtts://host:8883`. */
    url: z.string().regex(/^(mqtts?|tcp|tls|ssl):\/\//, 'must start with mqtt:// or mqtts://'),
    /** MQTT client id; must be stable across restarts for the persistent session. */
    clientId: z.string().min(1).max(64),
    /** Gateway id used in topics and payloads. */
    gatewayId: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only'),
    /** Topic root; default `lantian/v1/<gatewayId>/`. */
    topicRoot: z.string().min(1).optional(),
    /** Name of this uplink's cursor in the log; default `mqtt`. */
    uplinkId: z.string().min(1).default('mqtt'),
    username: z.string().optional(),
    password: z.string().optional(),
    tls: z
      .object({
        /** PEM file of the CA that signed the broker certificate (default: system CAs). */
        ca: z.string().optional(),
        /** PEM client certificate file, for brokers that require client certificates. */
        cert: z.string().optional(),
        /** PEM private key file of the client certificate. */
        key: z.string().optional(),
        /** Host name to verify the broker certificate against (default: from the URL). */
        servername: z.string().optional(),
        /** Turns broker-certificate verification off. Only for tests against self-made brokers. */
        insecureSkipVerifyInTestsOnly: z.boolean().default(false),
      })
      .strict()
      .optional(),
    /** Readings per data message, 1-10 000; default 500. */
    batchSize: z.number().int().min(1).max(10_000).default(500),
    /** How long a live batch waits to fill up, ms, 0-60 000; default 1000. */
    lingerMs: z.number().int().min(0).max(60_000).default(1000),
    /** Messages published and not yet acknowledged, 1-1000; default 16. */
    maxInFlight: z.number().int().min(1).max(1000).default(16),
    /** Wait between reconnection attempts, ms, 100-300 000; default 2000. */
    reconnectPeriodMs: z.number().int().min(100).max(300_000).default(2000),
    /** MQTT keepalive, seconds, 5-3600; default 30. */
    keepaliveS: z.number().int().min(5).max(3600).default(30),
    /** How often the retained health message is refreshed, ms, 1000-3 600 000; default 10 000. */
    healthIntervalMs: z.number().int().min(1000).max(3_600_000).default(10_000),
    /** Check every outgoing payload against the contract before publishing; default true. */
    validateOutgoing: z.boolean().default(true),
  })
  .strict();

export type MqttUplinkOptions = z.input<typeof mqttUplinkOptionsSchema>;
export type ResolvedMqttOptions = z.output<typeof mqttUplinkOptionsSchema>;

export function resolveOptions(options: MqttUplinkOptions): ResolvedMqttOptions {
  const r = mqttUplinkOptionsSchema.safeParse(options);
  if (r.success) return r.data;
  const problems = r.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`);
  throw new LantianError('UPLINK_OPTIONS_INVALID', `MQTT uplink options: ${problems.join('; ')}`, {
    context: { problems },
  });
}

function readPem(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (cause) {
    throw new LantianError(
      'UPLINK_TLS',
      `${file}: cannot read the MQTT ${what} (${(cause as Error).message})`,
      {
        cause,
        context: { file, what },
      },
    );
  }
}

export function stateMessage(o: ResolvedMqttOptions, state: StateMessage['state'], ts: number): string {
  const m: StateMessage = { v: CONTRACT_VERSION, gateway: o.gatewayId, state, ts };
  return JSON.stringify(m);
}

export function topicsOf(o: ResolvedMqttOptions) {
  return topics(o.topicRoot ?? defaultTopicRoot(o.gatewayId));
}

/** mqtt.js options: MQTT 3.1.1, persistent session, last will `offline` retained. */
export function clientOptions(o: ResolvedMqttOptions, now: number): IClientOptions {
  const opts: IClientOptions = {
    clientId: o.clientId,
    protocolVersion: 4,
    clean: false,
    keepalive: o.keepaliveS,
    reconnectPeriod: o.reconnectPeriodMs,
    connectTimeout: 10_000,
    resubscribe: false,
    queueQoSZero: false,
    will: {
      topic: topicsOf(o).state,
      payload: Buffer.from(stateMessage(o, 'offline', now)),
      qos: 1,
      retain: true,
    },
  };
  if (o.username !== undefined) opts.username = o.username;
  if (o.password !== undefined) opts.password = o.password;
  if (o.tls) {
    if (o.tls.ca) opts.ca = readPem(o.tls.ca, 'CA certificate');
    if (o.tls.cert) opts.cert = readPem(o.tls.cert, 'client certificate');
    if (o.tls.key) opts.key = readPem(o.tls.key, 'client key');
    if (o.tls.servername) opts.servername = o.tls.servername;
    opts.rejectUnauthorized = !o.tls.insecureSkipVerifyInTestsOnly;
  }
  return opts;
}
