/**
 * connectClient (gateway/src/uplink/mqtt/connect.ts): plain MQTT URLs get a client on a TCP
 * socket built here, against the embedded broker over a real socket; every other URL goes to
 * mqtt.connect. And, in a process of its own, a plain connection loads neither the WebSocket nor
 * the SOCKS packages that mqtt.connect would.
 */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { Socket, createServer, type Server } from 'node:net';
import { TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import type { MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectClient } from '../../../gateway/src/uplink/mqtt/connect.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../../gateway/src/uplink/mqtt/broker.js';

let broker: EmbeddedBroker;
const clients: MqttClient[] = [];
const servers: Server[] = [];

beforeAll(async () => {
  broker = await startEmbeddedBroker({ port: 0 });
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
  for (const s of servers.splice(0)) s.close();
});
afterAll(async () => {
  await broker.close();
});

const connected = (c: MqttClient) => new Promise<void>((resolve) => c.once('connect', () => resolve()));
const message = (c: MqttClient) =>
  new Promise<[string, string]>((resolve) => c.once('message', (t, p) => resolve([t, p.toString()])));

function track(c: MqttClient): MqttClient {
  clients.push(c);
  return c;
}

describe('connectClient', () => {
  it('connects a plain mqtt:// URL over its own TCP socket: publish, deliver, reconnect', async () => {
    const url = `mqtt://127.0.0.1:${broker.port}`;
    const sub = track(connectClient(url, { clientId: 'sub', protocolVersion: 4 }));
    await connected(sub);
    await sub.subscribeAsync('t/#', { qos: 1 });
    const pub = track(connectClient(url, { clientId: 'pub', protocolVersion: 4, reconnectPeriod: 100 }));
    await connected(pub);
    expect(pub.stream).toBeInstanceOf(Socket);
    expect(pub.stream).not.toBeInstanceOf(TLSSocket);
    expect(pub.options).toMatchObject({ protocol: 'mqtt', host: '127.0.0.1', port: broker.port });
    const got = message(sub);
    await pub.publishAsync('t/1', 'hello', { qos: 1 });
    expect(await got).toEqual(['t/1', 'hello']);
    // The builder is called again for every reconnection.
    pub.stream.destroy();
    await connected(pub);
    const again = message(sub);
    await pub.publishAsync('t/2', 'again', { qos: 1 });
    expect(await again).toEqual(['t/2', 'again']);
  });

  it('takes tcp:// as mqtt://, 1883 without a port, and an IPv6 host without its brackets', async () => {
    const from: (string | undefined)[] = [];
    const server = createServer((s) => {
      from.push(s.remoteAddress);
      s.destroy();
    });
    servers.push(server);
    const v6 = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(0, '::1', () => resolve(true));
    });
    const noPort = track(connectClient('tcp://127.0.0.1', { reconnectPeriod: 0 }));
    expect(noPort.options).toMatchObject({ protocol: 'mqtt', host: '127.0.0.1', port: 1883 });
    if (!v6) return; // no IPv6 loopback on this machine: the options above are what can be checked
    const port = (server.address() as { port: number }).port;
    const accepted = once(server, 'connection');
    const c = track(connectClient(`mqtt://[::1]:${port}`, { reconnectPeriod: 0 }));
    expect(c.options).toMatchObject({ host: '::1', hostname: '::1', port });
    await accepted;
    expect(from).toEqual(['::1']);
  });

  it('leaves every other URL to mqtt.connect', () => {
    // manualConnect: none of these clients tries to connect; what is checked is who built them.
    const built = (url: string, extra = {}) =>
      connectClient(url, { reconnectPeriod: 0, manualConnect: true, ...extra }).options;
    expect(built('ws://127.0.0.1:1/mqtt').protocol).toBe('ws');
    expect(built('mqtts://127.0.0.1:1').protocol).toBe('mqtts');
    // Credentials in the URL: mqtt.connect reads them.
    expect(built('mqtt://user:secret@127.0.0.1:1')).toMatchObject({ username: 'user', password: 'secret' });
    // TLS files with a plain URL: mqtt.connect switches to mqtts.
    expect(built('mqtt://127.0.0.1:1', { cert: 'x', key: 'y' }).protocol).toBe('mqtts');
    // And a plain URL is built here.
    expect(built('mqtt://127.0.0.1:1')).toMatchObject({ protocol: 'mqtt', host: '127.0.0.1', port: 1 });
    expect(() => connectClient('mqtt://127.0.0.1:1', { clean: false, manualConnect: true })).toThrow(
      /clientId/,
    );
  });
});

/** In a fresh process: connect to `url` with connectClient, then list the packages loaded. */
function loadedAfterConnect(url: string): Promise<{ ws: boolean; socks: boolean }> {
  const connect = fileURLToPath(new URL('../../../gateway/src/uplink/mqtt/connect.ts', import.meta.url));
  const script = `
    import { createRequire } from 'node:module';
    import { connectClient } from ${JSON.stringify(connect)};
    const c = connectClient(process.argv[1], { reconnectPeriod: 0 });
    const report = () => {
      const loaded = Object.keys(createRequire(import.meta.url).cache);
      const has = (p) => loaded.some((f) => f.includes('/node_modules/' + p + '/'));
      console.log(JSON.stringify({ ws: has('ws'), socks: has('socks') }));
      c.end(true);
    };
    c.once('connect', report);
    c.once('close', report);
  `;
  return new Promise((resolve, reject) =>
    execFile(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script, url],
      { timeout: 30_000 },
      (e, stdout, stderr) => {
        if (e) reject(new Error(`${e.message}\n${stderr}`));
        else resolve(JSON.parse(stdout.trim().split('\n')[0]!) as { ws: boolean; socks: boolean });
      },
    ),
  );
}

describe('what a connection loads', () => {
  it('a plain connection loads neither ws nor socks; a WebSocket one does', async () => {
    expect(await loadedAfterConnect(`mqtt://127.0.0.1:${broker.port}`)).toEqual({ ws: false, socks: false });
    // The same check sees them when mqtt.connect builds the connection.
    expect(await loadedAfterConnect('ws://127.0.0.1:1/mqtt')).toEqual({ ws: true, socks: true });
  }, 60_000);
});
