/**
 * Options of the MQTT uplink (gateway.ts maps the site config onto them) and their translation
 * into mqtt.js client options, TLS files included.
 */
import { readFileSync } from 'node:fs';
import type { IClientOptions } from 'mqtt';
import { z } from 'zod';
import { LantianError } from '../../core/errors.js';
import { formatPath } from '../../core/yaml.js';
import { CONTRACT_VERSION, topics, type StateMessage } from './contract.js';
import { mqttSettingsShape, refineMqttSettings, TLS_URL } from './settings.js';

/**
 * The publisher's options: the site config's MQTT settings (same schema, same defaults) with the
 * secrets resolved, plus what the composition root knows (gateway id, cursor name).
 */
export const mqttUplinkOptionsSchema = z
  .object({
    ...mqttSettingsShape,
    /** Gateway id used in topics and payloads. */
    gatewayId: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only'),
    /** Name of this uplink's cursor in the log; default `mqtt`. */
    uplinkId: z.string().min(1).default('mqtt'),
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
    /** Check every outgoing payload against the contract before publishing; default true. */
    validateOutgoing: z.boolean().default(true),
  })
  .strict()
  .superRefine(refineMqttSettings);

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

export function stateMessage(
  o: ResolvedMqttOptions,
  state: StateMessage['state'],
  ts: number,
  extra: Pick<StateMessage, 'reason' | 'lastRefusal'> = {},
): string {
  const m: StateMessage = { v: CONTRACT_VERSION, gateway: o.gatewayId, state, ts, ...extra };
  return JSON.stringify(m);
}

export function topicsOf(o: ResolvedMqttOptions) {
  return topics(`${o.topicRoot}/${o.gatewayId}`);
}

export function clientIdOf(o: ResolvedMqttOptions): string {
  return o.clientId ?? `lantian-${o.gatewayId}`;
}

/** mqtt.js options: MQTT 3.1.1, persistent session, last will `offline` retained. */
export function clientOptions(o: ResolvedMqttOptions, now: number): IClientOptions {
  const opts: IClientOptions = {
    clientId: clientIdOf(o),
    protocolVersion: 4,
    clean: false,
    keepalive: o.keepaliveS,
    reconnectPeriod: o.reconnectPeriodMs,
    connectTimeout: 10_000,
    resubscribe: false,
    // A refused login is retried by the publisher, with a backoff mqtt.js does not have.
    reconnectOnConnackError: false,
    queueQoSZero: false,
    // mqtt-packet's write cache is 65 536 prebuilt two-byte Buffers (about 7 MB resident) to save
    // a two-byte allocation per packet id; docs/footprint.md measured it. Off for every client
    // of the process, since the setting is global to mqtt-packet.
    writeCache: false,
    will: {
      topic: topicsOf(o).state,
      payload: Buffer.from(stateMessage(o, 'offline', now, { reason: 'connection_lost' })),
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

/**
 * What a failed connection most likely means when TLS and plain TCP are mixed up: both sides
 * only see the socket reset or closed ("read ECONNRESET"), which names neither side.
 * `err` is undefined when the broker closed the connection without any error or CONNACK.
 */
export function tlsMismatchHint(
  url: string,
  err: (Error & { code?: unknown }) | undefined,
): string | undefined {
  const tls = TLS_URL.test(url);
  if (tls && err) {
    const reset =
      err.code === 'ECONNRESET' ||
      /ECONNRESET|before secure TLS|wrong version number|packet length too long|unexpected eof/i.test(
        err.message,
      );
    if (reset)
      return `the broker at ${url} dropped the TLS handshake: that port probably speaks plain MQTT; use mqtt:// (or ws://), or the broker's TLS port`;
  }
  if (!tls && (!err || err.code === 'ECONNRESET'))
    return `the broker at ${url} closed the connection before answering CONNECT: that port probably expects TLS; use mqtts:// (or wss://) with tls settings, or the broker's plain port`;
  return undefined;
}
