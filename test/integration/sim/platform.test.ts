/**
 * The platform witness over a real broker, fed by hand-made payloads: what it counts per log
 * epoch (records, duplicates, reordering, announced gaps, unexplained holes, contract breaches).
 */
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../../gateway/src/uplink/mqtt/broker.js';
import { startPlatform, type PlatformWitness } from '../../../hardware-sim/src/platform/index.js';

const root = 'lantian/v1/gw-p/';
let broker: EmbeddedBroker;
let platform: PlatformWitness;
let sender: MqttClient;

beforeEach(async () => {
  broker = await startEmbeddedBroker({ port: 0 });
  platform = await startPlatform({ url: broker.url, gatewayId: 'gw-p', keepReadings: true });
  sender = await mqtt.connectAsync(broker.url, { clientId: 'hand-made-gateway' });
});
afterEach(async () => {
  await sender.endAsync();
  await platform.close();
  await broker.close();
});

function batch(lane: 'live' | 'replay', from: number, to: number) {
  const readings = [];
  for (let seq = from; seq <= to; seq++)
    readings.push({ seq, ts: seq, device: 'd', point: 'p', value: seq, flag: 'N', raw: [seq] });
  return { v: 1, gateway: 'gw-p', lane, first: from, last: to, count: readings.length, readings };
}

function health(logId: string, lastSeq: number) {
  return {
    v: 1,
    gateway: 'gw-p',
    ts: 1,
    boot: 1,
    logId,
    log: { lastSeq, bytes: 0, quotaBytes: null },
    uplink: {
      lane: 'live',
      ackedThrough: lastSeq,
      backlog: 0,
      oldestUndeliveredTs: null,
      oldestUndeliveredAgeMs: null,
      inFlight: 0,
      lastRefusal: null,
    },
    counters: {
      gapEvents: 0,
      droppedRecords: 0,
      publishErrors: 0,
      reconnects: 0,
      refusedLogins: 0,
      pendingReadings: 0,
      unloggedReadings: 0,
      logWriteFailures: 0,
    },
    devices: {},
  };
}

const send = (sub: string, body: unknown) =>
  sender.publishAsync(`${root}${sub}`, typeof body === 'string' ? body : JSON.stringify(body), { qos: 1 });

describe('the platform witness', () => {
  it('reports duplicates by seq, reordering within a lane, announced gaps and unexplained holes', async () => {
    await send('data', batch('live', 1, 10));
    await send('data', batch('live', 21, 30));
    await send('data', batch('live', 11, 20)); // late: reordered
    await send('data', batch('replay', 5, 7)); // already there: duplicates
    const gap = { from: 31, to: 40, count: 10, reason: 'quota', kinds: ['reading'], uplinks: ['mqtt'] };
    await send('events', { v: 1, gateway: 'gw-p', lane: 'live', seq: 41, ts: 1, kind: 'gap', payload: gap });
    await send('data', batch('live', 42, 50));
    await send('data', batch('live', 61, 70));
    const s = await platform.waitFor((x) => x.maxSeq === 70);
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
    expect(platform.readings.get(61)).toEqual(batch('live', 61, 61).readings[0]);
  });

  it('starts a new sequence space when the gateway names a new log, without holes or duplicates', async () => {
    await send('health', health('aaaa', 0));
    await send('data', batch('live', 1, 5));
    // The log was replaced: seqs start again at 1 under a new log id.
    await send('health', health('bbbb', 0));
    await send('data', batch('live', 1, 3));
    const s = await platform.waitFor((x) => x.logId === 'bbbb' && x.maxSeq === 3);
    expect(s).toMatchObject({ records: 3, duplicates: 0, reorders: 0, holes: [] });
    expect(s.epochs.map((e) => [e.logId, e.records, e.duplicates])).toEqual([
      ['aaaa', 5, 0],
      ['bbbb', 3, 0],
    ]);
    expect(platform.readingsOf('aaaa')?.size).toBe(5);
  });

  it('counts payloads that break the contract and ignores them, saying why', async () => {
    await send('data', { ...batch('live', 1, 3), count: 5 });
    await send('data', 'not json');
    await send('state', { v: 1, gateway: 'gw-p', state: 'sleeping', ts: 1 });
    await send('data', batch('live', 1, 3));
    const s = await platform.waitFor((x) => x.messages === 4);
    expect(s).toMatchObject({ invalid: 3, records: 3, maxSeq: 3 });
    expect(s.invalidReasons).toEqual([
      'data: count 5 but 3 items',
      'data: not JSON',
      'state: /state must be equal to one of the allowed values',
    ]);
    expect(s.state).toBeUndefined();
  });

  it('tells each new reading once to its listeners, with its lane and log', async () => {
    const told: string[] = [];
    platform.onReading((r, info) => told.push(`${info.logId}:${info.lane}:${r.seq}`));
    await send('health', health('cccc', 0));
    await send('data', batch('live', 1, 2));
    await send('data', batch('replay', 2, 3));
    await platform.waitFor((x) => x.maxSeq === 3);
    expect(told).toEqual(['cccc:live:1', 'cccc:live:2', 'cccc:replay:3']);
  });
});
