/**
 * `lantian command` in a real Node-RED runtime over a real Mosquitto: the command goes out on
 * `cmd/<name>` with an id, the answer on `cmd/<name>/result` with that id comes back as one
 * message; no answer ends in NODERED_COMMAND_TIMEOUT. The gateway side here is a plain MQTT
 * client that answers as the contract says (docs/commands.md), and only when the command's
 * signature holds under the gateway's own check (commandSignatureHolds) and the platform's key.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { createRequire } from 'node:module';
import mqtt, { type MqttClient } from 'mqtt';
import type { NodeMessage } from 'node-red';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import lantian from '../../../node-red/src/index.js';
import { commandSignatureHolds } from '../../../gateway/src/uplink/commands/handler.js';
import { createKeyPair, loadPublicKey } from '../../../gateway/src/uplink/integrity/keys.js';
import { startMosquitto, type MosquittoBroker } from '../../helpers/broker.js';
import { collect, helper, loggedErrors, startServer, stopServer, until } from '../../helpers/node-red.js';
import { requireTool } from '../../helpers/tools.js';

const mqttNodes = createRequire(import.meta.url)('@node-red/nodes/core/network/10-mqtt.js') as unknown;
const mosquitto = requireTool('mosquitto');
const ROOT = 'lantian/v1/site-9/';

let broker: MosquittoBroker;
let gateway: MqttClient;
type Body = { v: number; id: string; ts: number; nonce: string; args: unknown; sig: string };
const received: { topic: string; body: Body; holds: boolean }[] = [];
const keyDir = mkdtempSync(join(tmpdir(), 'lantian-nr-cmd-'));
const keys = createKeyPair(keyDir);
const platformKey: KeyObject = loadPublicKey(keys.publicKey);

beforeAll(async () => {
  if (!mosquitto.available) return;
  broker = await startMosquitto();
  gateway = await mqtt.connectAsync(broker.url, { clientId: 'test-gateway', protocolVersion: 4 });
  gateway.on('message', (topic, payload) => {
    if (topic.endsWith('/result')) return;
    const body = JSON.parse(payload.toString()) as Body;
    const holds = commandSignatureHolds(body, platformKey);
    received.push({ topic, body, holds });
    // The gateway answers a signed `ping` and stays silent on anything else.
    if (topic === `${ROOT}cmd/ping` && holds)
      void gateway.publishAsync(
        `${topic}/result`,
        JSON.stringify({ v: 1, id: body.id, ok: true, result: { pong: body.args } }),
        { qos: 1 },
      );
  });
  await gateway.subscribeAsync(`${ROOT}cmd/#`, { qos: 1 });
  await startServer();
});

afterAll(async () => {
  await gateway?.endAsync(true);
  await stopServer();
  await broker?.close();
  rmSync(keyDir, { recursive: true, force: true });
});

afterEach(async () => {
  received.length = 0;
  await helper.unload();
});

async function loadFlow(extra: object = {}, connect = true) {
  await helper.load(
    [lantian, mqttNodes],
    [
      { id: 'flow', type: 'tab', label: 'test' },
      {
        id: 'broker',
        type: 'mqtt-broker',
        broker: '127.0.0.1',
        port: String(broker.port),
        autoConnect: true,
        protocolVersion: '4',
        keepalive: '60',
        cleansession: true,
      },
      {
        id: 'n-cmd',
        type: 'lantian-command',
        z: 'flow',
        broker: 'broker',
        gatewayId: 'site-9',
        timeout: '0.5',
        keyFile: keys.privateKey,
        wires: [['n-out']],
        ...extra,
      },
      { id: 'n-out', type: 'helper', z: 'flow', wires: [] },
    ],
  );
  const out = collect<NodeMessage & { commandId: string }>('n-out');
  if (!connect) return out;
  await until(
    () => (helper.getNode('broker') as unknown as { connected: boolean }).connected,
    10_000,
    'broker connection',
  );
  await new Promise((r) => setTimeout(r, 200));
  return out;
}

mosquitto.describe('lantian command', () => {
  mosquitto.it('sends cmd/<name> with an id and emits the result that echoes it', async () => {
    const out = await loadFlow();
    helper.getNode('n-cmd')!.receive({ topic: 'ping', payload: { n: 1 } });
    await until(() => out.length === 1, 10_000, 'the result');
    expect(received).toHaveLength(1);
    expect(received[0]!.body).toMatchObject({ v: 1, args: { n: 1 } });
    expect(received[0]!.holds).toBe(true);
    expect(received[0]!.body.nonce).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(Math.abs(received[0]!.body.ts - Date.now())).toBeLessThan(60_000);
    expect(out[0]!.topic).toBe('ping/result');
    expect(out[0]!.commandId).toBe(received[0]!.body.id);
    expect(out[0]!.payload).toEqual({ v: 1, id: received[0]!.body.id, ok: true, result: { pong: { n: 1 } } });
  });

  mosquitto.it('ends a command nobody answers with NODERED_COMMAND_TIMEOUT', async () => {
    const out = await loadFlow({ command: 'reboot' });
    helper.getNode('n-cmd')!.receive({ payload: {} });
    await until(() => loggedErrors('n-cmd').length > 0, 5_000, 'the timeout');
    expect(loggedErrors('n-cmd')[0]).toMatch(/no result for reboot/);
    expect(received.map((r) => r.topic)).toEqual([`${ROOT}cmd/reboot`]);
    expect(out).toEqual([]);
  });

  mosquitto.it('refuses a missing gateway id', async () => {
    await loadFlow({ gatewayId: '' }, false);
    await until(() => loggedErrors('n-cmd').length > 0, 5_000, 'an error');
    expect(loggedErrors('n-cmd')[0]).toMatch(/^NODERED_CONFIG: .*gatewayId/);
  });

  mosquitto.it('signs every command with a fresh nonce, and an altered one no longer holds', async () => {
    const out = await loadFlow();
    helper.getNode('n-cmd')!.receive({ topic: 'ping', payload: { n: 1 } });
    helper.getNode('n-cmd')!.receive({ topic: 'ping', payload: { n: 1 } });
    await until(() => out.length === 2, 10_000, 'two results');
    const [a, b] = received.map((r) => r.body);
    expect(a!.nonce).not.toBe(b!.nonce);
    const altered = { ...a!, args: { n: 2 } } as unknown as Record<string, unknown>;
    expect(commandSignatureHolds(altered, platformKey)).toBe(false);
  });

  mosquitto.it(
    'refuses to start without the platform key, or with a key file that is not there',
    async () => {
      await loadFlow({ keyFile: '' }, false);
      await until(() => loggedErrors('n-cmd').length > 0, 5_000, 'an error');
      expect(loggedErrors('n-cmd')[0]).toMatch(/^NODERED_CONFIG: .*keyFile/);
      await helper.unload();
      await loadFlow({ keyFile: join(keyDir, 'missing.key') }, false);
      await until(() => loggedErrors('n-cmd').length > 0, 5_000, 'an error');
      expect(loggedErrors('n-cmd')[0]).toMatch(/^INTEGRITY_KEY_INVALID: .*missing\.key/);
    },
  );

  mosquitto.it('refuses a command name with a wildcard and sends nothing', async () => {
    await loadFlow();
    helper.getNode('n-cmd')!.receive({ topic: 'a/#', payload: {} });
    await until(() => loggedErrors('n-cmd').length > 0, 5_000, 'an error');
    expect(loggedErrors('n-cmd')[0]).toMatch(/command name/);
    expect(received).toEqual([]);
  });
});
