/**
 * An mqtt.js client for a broker URL. `mqtt.connect` loads the stream builders of every protocol
 * it knows at the first connection: WebSocket (ws, and with it Node's http, https and zlib), TLS
 * and SOCKS proxies (socks, ip-address, smart-buffer). A gateway on plain MQTT needs none of
 * them, and in a bare process they cost 4–9 MB resident and 40 more of Node's own modules
 * (docs/footprint.md, "Plain MQTT without the other protocols"). For `mqtt://` and `tcp://` URLs
 * this builds the client itself, as mqtt.js documents (`new MqttClient(streamBuilder, options)`),
 * on a TCP socket to the URL's host and port; every other URL (mqtts, wss, ws, credentials in the
 * URL, TLS files on a plain URL) goes to `mqtt.connect` as before.
 */
import { createConnection } from 'node:net';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';

const PLAIN = new Set(['mqtt:', 'tcp:']);

export function connectClient(url: string, options: IClientOptions): MqttClient {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (
    !parsed ||
    !PLAIN.has(parsed.protocol) ||
    parsed.username !== '' ||
    parsed.password !== '' ||
    (options.cert !== undefined && options.key !== undefined)
  )
    return mqtt.connect(url, options);
  // WHATWG URLs keep an IPv6 host in brackets; sockets want it bare.
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1') || 'localhost';
  const port = parsed.port === '' ? 1883 : Number(parsed.port);
  if (options.clean === false && !options.clientId) throw new Error('Missing clientId for unclean clients');
  const client = new mqtt.MqttClient(() => createConnection({ host, port }), {
    ...options,
    protocol: 'mqtt',
    host,
    hostname: host,
    port,
  });
  // As mqtt.connect does: errors reach the caller's listeners, never an unhandled 'error'.
  client.on('error', () => undefined);
  return client;
}
