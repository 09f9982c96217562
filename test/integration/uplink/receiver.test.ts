import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../../gateway/src/uplink/mqtt/broker.js';
import { dataBatchSchema, topics, type DataBatch } from '../../../gateway/src/uplink/mqtt/contract.js';
import { createReceiver, type Receiver } from '../../../gateway/src/uplink/mqtt/receiver.js';

const t = topics('lantian/v1/gw-r/');
let broker: EmbeddedBroker;
let receiver: Receiver;
let sender: MqttClient;

beforeEach(async () => {
  broker = await startEmbeddedBroker();
  receiver = await createReceiver({ url: broker.url, gatewayId: 'gw-r' });
  sender = await mqtt.connectAsync(broker.url, { clientId: 'hand-made-gateway' });
});
afterEach(async () => {
  await sender.endAsync();
  await receiver.close();
  await broker.close();
});

function batch(lane: 'live' | 'replay', from: number, to: number): DataBatch {
  const readings = [];
  for (let seq = from; seq <= to; seq++)
    readings.push({ seq, ts: seq, device: 'd', point: 'p', value: seq, flag: 'N' as const });
  return { v: 1, gateway: 'gw-r', lane, first: from, last: to, count: readings.length, readings };
}

const send = (topic: string, body: unknown) => sender.publishAsync(topic, JSON.stringify(body), { qos: 1 });

describe('the receiver', () => {
  it('reports duplicates by seq, reordering within a lane, announced gaps and unexplained holes', async () => {
    await send(t.data, batch('live', 1, 10));
    await send(t.data, batch('live', 21, 30));
    await send(t.data, batch('live', 11, 20)); // late: reordered
    await send(t.data, batch('replay', 5, 7)); // already there: duplicates
    const gap = { from: 31, to: 40, count: 10, reason: 'quota', kinds: ['reading'], uplinks: ['mqtt'] };
    await send(t.events, { v: 1, gateway: 'gw-r', lane: 'live', seq: 41, ts: 1, kind: 'gap', payload: gap });
    await send(t.data, batch('live', 42, 50));
    await send(t.data, batch('live', 61, 70));
    const s = await receiver.waitFor((x) => x.maxSeq === 70);
    expect(s).toMatchObject({
      records: 50,
      duplicates: 3,
      duplicateRanges: [[5, 7]],
      reorders: 1,
      reordered: [{ lane: 'live', seq: 11, after: 30 }],
      gaps: [gap],
      holes: [[51, 60]],
      invalid: 0,
    });
  });

  it('counts payloads that break the contract and ignores them', async () => {
    const bad = { ...batch('live', 1, 3), count: 5 };
    expect(dataBatchSchema.safeParse(bad).success).toBe(false);
    await send(t.data, bad);
    await sender.publishAsync(t.data, 'not json', { qos: 1 });
    await send(t.data, batch('live', 1, 3));
    const s = await receiver.waitFor((x) => x.messages === 3);
    expect(s).toMatchObject({ invalid: 2, records: 3, maxSeq: 3 });
  });
});
