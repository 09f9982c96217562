/**
 * `lantian gateway` in a real Node-RED runtime, subscribed through Node-RED's own mqtt-broker
 * config node to a real Mosquitto: one message per record, continuity by seq (holes, duplicates,
 * late records), seals checked with the integrity library, and refused settings.
 */
import { generateKeyPairSync } from 'node:crypto';
import { createRequire } from 'node:module';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import lantian from '../../../node-red/src/index.js';
import type { RecordItem, Report } from '../../../node-red/src/stream.js';
import { Signer } from '../../../gateway/src/uplink/integrity/seal.js';
import { startMosquitto, type MosquittoBroker } from '../../helpers/broker.js';
import { collect, helper, loggedErrors, startServer, stopServer, until } from '../../helpers/node-red.js';
import { requireTool } from '../../helpers/tools.js';

const mqttNodes = createRequire(import.meta.url)('@node-red/nodes/core/network/10-mqtt.js') as unknown;
const mosquitto = requireTool('mosquitto');
const GW = 'site-9';
const ROOT = `lantian/v1/${GW}/`;
const keys = generateKeyPairSync('ed25519');
const PUBLIC_PEM = keys.publicKey.export({ format: 'pem', type: 'spki' }).toString();

let broker: MosquittoBroker;
let client: MqttClient;

beforeAll(async () => {
  if (!mosquitto.available) return;
  broker = await startMosquitto();
  client = await mqtt.connectAsync(broker.url, { clientId: 'test-gateway-side', protocolVersion: 4 });
  await startServer();
});

afterAll(async () => {
  await client?.endAsync(true);
  await stopServer();
  await broker?.close();
});

let items: RecordItem[];
let reports: Report[];

const flow = (extra: object = {}) => [
  { id: 'flow', type: 'tab', label: 'test' },
  {
    id: 'broker',
    type: 'mqtt-broker',
    name: 'b',
    broker: '127.0.0.1',
    port: String(broker.port),
    clientid: '',
    autoConnect: true,
    protocolVersion: '4',
    keepalive: '60',
    cleansession: true,
  },
  {
    id: 'n-gw',
    type: 'lantian-gateway',
    z: 'flow',
    name: 'gw',
    broker: 'broker',
    gatewayId: GW,
    wires: [['n-items'], ['n-reports']],
    ...extra,
  },
  { id: 'n-items', type: 'helper', z: 'flow', wires: [] },
  { id: 'n-reports', type: 'helper', z: 'flow', wires: [] },
];

async function loadFlow(extra: object = {}): Promise<void> {
  await helper.load([lantian, mqttNodes], flow(extra));
  items = collect<RecordItem>('n-items');
  reports = collect<Report>('n-reports');
  // Subscribed once the broker node says so: the node's status turns from "subscribed" on the first message only.
  await until(
    () => (helper.getNode('broker') as unknown as { connected: boolean }).connected,
    10_000,
    'broker connection',
  );
  await new Promise((r) => setTimeout(r, 200));
}

const reading = (seq: number, value: number) => ({
  seq,
  ts: 1767225600000 + seq,
  device: 'stack1',
  point: 'so2',
  value,
  flag: 'N',
});
const data = (seqs: number[], lane: 'live' | 'replay' = 'live') => ({
  v: 1,
  gateway: GW,
  lane,
  first: seqs[0],
  last: seqs.at(-1),
  count: seqs.length,
  readings: seqs.map((s) => reading(s, s * 1.5)),
});
const publish = (sub: string, body: object) =>
  client.publishAsync(`${ROOT}${sub}`, JSON.stringify(body), { qos: 1 });

beforeEach(() => {
  items = [];
  reports = [];
});
afterEach(async () => {
  await helper.unload();
});

mosquitto.describe('lantian gateway', () => {
  mosquitto.it('emits one message per reading, aggregate and event with its seq and lane', async () => {
    await loadFlow();
    await publish('data', data([1, 2]));
    await publish('agg', {
      v: 1,
      gateway: GW,
      lane: 'live',
      first: 3,
      last: 3,
      count: 1,
      aggregates: [
        {
          seq: 3,
          device: 'stack1',
          point: 'so2',
          period: 'minute',
          start: 1767225600000,
          min: 1,
          avg: 2,
          max: 3,
          count: 60,
          flag: 'N',
        },
      ],
    });
    await publish('events', {
      v: 1,
      gateway: GW,
      lane: 'live',
      seq: 4,
      ts: 1767225601000,
      kind: 'alarm',
      payload: { text: 'high' },
    });
    await until(() => items.length >= 4, 10_000, 'four records');
    expect(items.map((i) => [i.kind, i.seq, i.topic, i.lane])).toEqual([
      ['reading', 1, `${GW}/stack1/so2`, 'live'],
      ['reading', 2, `${GW}/stack1/so2`, 'live'],
      ['aggregate', 3, `${GW}/stack1/so2/minute`, 'live'],
      ['event', 4, `${GW}/events/alarm`, 'live'],
    ]);
    expect(items[1]!.payload).toBe(3);
    expect(items[0]!.integrity).toBe('unchecked');
    expect(reports.filter((r) => r.kind === 'gap' || r.kind === 'duplicate')).toEqual([]);
  });

  mosquitto.it(
    'reports a hole by seq, passes a duplicate on once, and reports the replay that fills the hole',
    async () => {
      await loadFlow();
      await publish('data', data([1, 2]));
      await publish('data', data([5, 6]));
      await until(() => reports.some((r) => r.kind === 'gap'), 10_000, 'a gap report');
      expect(reports.find((r) => r.kind === 'gap')!.payload).toMatchObject({ missing: [[3, 4]] });
      await publish('data', data([1, 2]));
      await until(() => reports.some((r) => r.kind === 'duplicate'), 10_000, 'a duplicate report');
      expect(reports.find((r) => r.kind === 'duplicate')!.payload).toMatchObject({
        seqs: [[1, 2]],
        count: 2,
      });
      await publish('data', data([3, 4], 'replay'));
      await until(() => reports.some((r) => r.kind === 'late'), 10_000, 'the replay');
      expect(reports.find((r) => r.kind === 'late')!.payload).toMatchObject({ seqs: [[3, 4]], holes: [] });
      expect(items.map((i) => i.seq)).toEqual([1, 2, 5, 6, 3, 4]);
    },
  );

  mosquitto.it('verifies sealed messages and flags one whose content was altered after sealing', async () => {
    await loadFlow({ publicKey: PUBLIC_PEM });
    const signer = new Signer(keys.privateKey);
    const good = signer.seal('log-a', 'data', data([1]));
    const altered = signer.seal('log-a', 'data', data([2]));
    altered.readings[0]!.value = 9999;
    await publish('data', good);
    await publish('data', altered);
    await publish('data', data([3]));
    await until(() => items.length >= 3, 10_000, 'three readings');
    expect(items.map((i) => [i.seq, i.integrity])).toEqual([
      [1, 'verified'],
      [2, 'failed'],
      [3, 'unsigned'],
    ]);
    expect(reports.find((r) => r.kind === 'integrity')!.payload).toMatchObject({ seqs: [2, 2] });
  });

  mosquitto.it('reports a payload that breaks the contract and goes on', async () => {
    await loadFlow();
    await publish('data', { v: 1, gateway: GW, lane: 'live', readings: [] });
    await publish('data', data([1]));
    await until(
      () => items.length >= 1 && reports.some((r) => r.kind === 'invalid'),
      10_000,
      'report and reading',
    );
    expect(reports.find((r) => r.kind === 'invalid')!.payload).toMatchObject({ topic: `${ROOT}data` });
  });

  mosquitto.it('refuses a missing gateway id and a key that is not an Ed25519 public key', async () => {
    await helper.load(
      [lantian, mqttNodes],
      [
        ...flow({ gatewayId: '' }),
        {
          id: 'n-badkey',
          type: 'lantian-gateway',
          z: 'flow',
          broker: 'broker',
          gatewayId: GW,
          publicKey: 'not a key',
          wires: [[], []],
        },
      ],
    );
    await until(
      () => loggedErrors('n-gw').length > 0 && loggedErrors('n-badkey').length > 0,
      5_000,
      'two errors',
    );
    expect(loggedErrors('n-gw')[0]).toMatch(/^NODERED_CONFIG: .*gatewayId/);
    expect(loggedErrors('n-badkey')[0]).toMatch(/^NODERED_CONFIG: .*publicKey/);
  });
});
