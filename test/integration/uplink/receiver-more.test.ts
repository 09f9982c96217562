/**
 * The receiver's bookkeeping beyond data batches: aggregates, events, blobs cut into parts, state
 * and health; batches whose seqs are not contiguous or overlap what arrived; the list of
 * reorders and its bound; the summary; waitFor's timeout; and its MQTT session (kept while the
 * receiver is away, subscribed again when the broker forgot it, closed on close()).
 */
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../../gateway/src/uplink/mqtt/broker.js';
import { topics } from '../../../gateway/src/uplink/mqtt/contract.js';
import {
  createReceiver,
  summary,
  type Receiver,
  type ReceiverOptions,
} from '../../../gateway/src/uplink/mqtt/receiver.js';

const gw = 'gw-m';
const t = topics(`lantian/v1/${gw}/`);
type Lane = 'live' | 'replay';

let broker: EmbeddedBroker;
let sender: MqttClient;
const receivers: Receiver[] = [];

beforeEach(async () => {
  broker = await startEmbeddedBroker();
  sender = await mqtt.connectAsync(broker.url, { clientId: 'hand-made-gateway', reconnectPeriod: 100 });
});
afterEach(async () => {
  await sender.endAsync(true);
  for (const r of receivers.splice(0)) await r.close();
  await broker.close();
});

async function receiver(options: Partial<ReceiverOptions> = {}): Promise<Receiver> {
  const r = await createReceiver({ url: broker.url, gatewayId: gw, ...options });
  receivers.push(r);
  return r;
}

const send = (topic: string, body: unknown, retain = false) =>
  sender.publishAsync(topic, typeof body === 'string' ? body : JSON.stringify(body), { qos: 1, retain });

const reading = (seq: number) => ({ seq, ts: seq, device: 'd', point: 'p', value: seq, flag: 'N' as const });
function data(lane: Lane, seqs: number[]) {
  const readings = seqs.map(reading);
  return { v: 1, gateway: gw, lane, first: seqs[0], last: seqs.at(-1), count: seqs.length, readings };
}
const span = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);
function agg(lane: Lane, seqs: number[]) {
  const aggregates = seqs.map((seq) => ({
    seq,
    device: 'd',
    point: 'p',
    period: 'minute' as const,
    start: 0,
    min: 1,
    avg: 1,
    max: 1,
    count: 1,
    flag: 'N' as const,
  }));
  return { v: 1, gateway: gw, lane, first: seqs[0], last: seqs.at(-1), count: seqs.length, aggregates };
}
const event = (lane: Lane, seq: number, kind = 'alarm', payload: unknown = { point: 'p' }) => ({
  v: 1,
  gateway: gw,
  lane,
  seq,
  ts: seq,
  kind,
  payload,
});
const blob = (lane: Lane, seq: number, chunk?: { index: number; count: number }) => ({
  v: 1,
  gateway: gw,
  lane,
  seq,
  ts: seq,
  kind: 'snapshot',
  contentType: 'image/jpeg',
  data: 'AAAA',
  ...(chunk ? { chunk: { ...chunk, size: 3 * chunk.count, sha256: 'a'.repeat(64) } } : {}),
});
const state = { v: 1, gateway: gw, state: 'online', ts: 5 };
const zeros = (...names: string[]) => Object.fromEntries(names.map((n) => [n, 0]));
const health = {
  ...{ v: 1, gateway: gw, ts: 6, boot: 1, logId: 'log-1' },
  log: { lastSeq: 9, bytes: 4096, quotaBytes: null },
  uplink: {
    ...{ lane: 'live', ackedThrough: 9, ...zeros('backlog', 'inFlight') },
    ...{ oldestUndeliveredTs: null, oldestUndeliveredAgeMs: null, lastRefusal: null },
  },
  counters: zeros(
    ...['gapEvents', 'droppedRecords', 'publishErrors', 'reconnects', 'refusedLogins'],
    ...['pendingReadings', 'unloggedReadings', 'logWriteFailures'],
  ),
  devices: {},
};

/** Resolves when the broker has `clientId` subscribed, or after `ms` (the caller's waitFor then fails). */
function subscribed(b: EmbeddedBroker, clientId: string, ms = 3000): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      b.aedes.off('subscribe', on);
      resolve();
    }
    function on(_subs: unknown, client: { id: string } | null) {
      if (client?.id === clientId) done();
    }
    b.aedes.on('subscribe', on);
  });
}

/** Resolves when `clientId` is connected again. */
function ready(b: EmbeddedBroker, clientId: string): Promise<void> {
  return new Promise((resolve) => {
    const on = (client: { id: string }) => {
      if (client.id !== clientId) return;
      b.aedes.off('clientReady', on);
      resolve();
    };
    b.aedes.on('clientReady', on);
  });
}

/** Publishes from inside the broker, as a gateway would while the receiver is cut off. */
function publishInBroker(topic: string, body: unknown): Promise<void> {
  return new Promise((resolve, reject) =>
    broker.aedes.publish(
      {
        cmd: 'publish',
        topic,
        payload: Buffer.from(JSON.stringify(body)),
        qos: 1,
        retain: false,
        dup: false,
      },
      (e) => (e ? reject(e) : resolve()),
    ),
  );
}

describe('the receiver, record kinds', () => {
  it('takes aggregates, events and blobs (a blob in parts once, at its last part), keeps state and health, and counts what breaks the contract', async () => {
    const rx = await receiver();
    await send(t.agg, agg('live', [1, 2]));
    await send(t.events, event('live', 3));
    await send(t.blob('snapshot'), blob('replay', 4));
    await send(t.blob('snapshot'), blob('live', 5, { index: 0, count: 3 }));
    await send(t.blob('snapshot'), blob('live', 5, { index: 1, count: 3 }));
    let s = await rx.waitFor((x) => x.messages === 5);
    // The first two parts of blob 5 are not a record yet.
    expect(s).toMatchObject({ records: 4, maxSeq: 4, invalid: 0 });
    await send(t.blob('snapshot'), blob('live', 5, { index: 2, count: 3 }));
    await send(t.state, state);
    await send(t.health, health);
    await send(`lantian/v1/${gw}/something-else`, { any: 'thing' });
    s = await rx.waitFor((x) => x.messages === 9);
    expect(s).toMatchObject({
      records: 5,
      maxSeq: 5,
      invalid: 0,
      duplicates: 0,
      reorders: 0,
      gaps: [],
      holes: [],
    });
    expect(s.lanes).toEqual({ live: { messages: 3, lastSeq: 5 }, replay: { messages: 1, lastSeq: 4 } });
    expect(s.state).toEqual(state);
    expect(s.health).toEqual(health);
    expect(rx.events).toEqual([event('live', 3)]);

    // Each of these breaks the contract; a valid state and health seen before stay.
    await send(t.agg, { ...agg('live', [6, 7]), count: 3 });
    await send(t.events, { ...event('live', 6), seq: 0 });
    await send(t.blob('snapshot'), { ...blob('live', 6), data: undefined });
    await send(t.state, { ...state, state: 'asleep' });
    await send(t.health, { ...health, boot: -1 });
    await send(`lantian/v1/${gw}/something-else`, 'not json');
    s = await rx.waitFor((x) => x.messages === 15);
    expect(s).toMatchObject({ records: 5, maxSeq: 5, invalid: 6 });
    expect(s.state).toEqual(state);
    expect(s.health).toEqual(health);
    expect(rx.events).toHaveLength(1);
  });

  it('has nothing to report before anything arrives, and no holes below fromSeq', async () => {
    const rx = await receiver();
    const s = rx.stats();
    expect(s).toEqual({
      messages: 0,
      invalid: 0,
      records: 0,
      maxSeq: 0,
      duplicates: 0,
      duplicateRanges: [],
      reorders: 0,
      reordered: [],
      lanes: { live: { messages: 0, lastSeq: 0 }, replay: { messages: 0, lastSeq: 0 } },
      gaps: [],
      holes: [],
    });
    expect('state' in s).toBe(false);
    expect('health' in s).toBe(false);
    expect(rx.events).toEqual([]);

    const from5 = await receiver({ fromSeq: 5 });
    await send(t.data, data('live', [1, 2]));
    expect((await from5.waitFor((x) => x.records === 2)).holes).toEqual([]);
    await send(t.data, data('live', [8]));
    expect((await from5.waitFor((x) => x.records === 3)).holes).toEqual([[5, 7]]);
  });

  it('keeps readings by seq only when asked', async () => {
    const plain = await receiver();
    const keeping = await receiver({ keepReadings: true });
    await send(t.data, data('live', [1, 2, 3]));
    await plain.waitFor((x) => x.records === 3);
    await keeping.waitFor((x) => x.records === 3);
    expect(plain.readings.size).toBe(0);
    expect([...keeping.readings.entries()]).toEqual([
      [1, reading(1)],
      [2, reading(2)],
      [3, reading(3)],
    ]);
  });
});

describe('the receiver, seq arithmetic', () => {
  it('reads a batch with seqs of other kinds between its own, and counts partial overlaps seq by seq', async () => {
    const rx = await receiver();
    await send(t.data, data('live', [1, 2, 5, 6])); // 3 and 4 are other kinds, still to come
    let s = await rx.waitFor((x) => x.messages === 1);
    expect(s).toMatchObject({ records: 4, maxSeq: 6, holes: [[3, 4]], duplicates: 0 });
    await send(t.data, data('replay', span(5, 8))); // 5 and 6 again, 7 and 8 new
    await send(t.data, data('live', [8, 9])); // 8 again, 9 new
    await send(t.events, event('live', 3)); // late: reordered
    await send(t.events, event('replay', 3)); // the same event again
    s = await rx.waitFor((x) => x.messages === 5);
    expect(s).toMatchObject({
      records: 8,
      maxSeq: 9,
      holes: [[4, 4]],
      duplicates: 4,
      duplicateRanges: [
        [3, 3],
        [5, 6],
        [8, 8],
      ],
      reorders: 1,
      reordered: [{ lane: 'live', seq: 3, after: 9, topic: t.events }],
    });
    expect(s.lanes).toEqual({ live: { messages: 3, lastSeq: 9 }, replay: { messages: 2, lastSeq: 8 } });
  });

  it('counts every reorder, lists the first 20, and the summary shortens its lists to 5', async () => {
    const rx = await receiver();
    await send(t.data, data('live', [100]));
    const late = Array.from({ length: 22 }, (_, i) => 2 * i + 2); // 2, 4, ..., 44
    for (const seq of late) await send(t.data, data('live', [seq]));
    const s = await rx.waitFor((x) => x.messages === 23);
    expect(s.reorders).toBe(22);
    expect(s.reordered).toEqual(
      late.slice(0, 20).map((seq) => ({ lane: 'live', seq, after: 100, topic: t.data })),
    );
    const holes = [...late.map((seq) => [seq - 1, seq - 1]), [45, 99]];
    expect(s.holes).toEqual(holes);
    expect(s.lanes).toEqual({ live: { messages: 23, lastSeq: 100 }, replay: { messages: 0, lastSeq: 0 } });
    expect(summary(s)).toEqual({
      messages: 23,
      invalid: 0,
      records: 23,
      maxSeq: 100,
      duplicates: 0,
      reorders: 22,
      reordered: s.reordered.slice(0, 5),
      lanes: s.lanes,
      gaps: 0,
      holes: holes.slice(0, 5),
    });
  });
});

describe('the receiver, waiting', () => {
  it('rejects a wait whose condition is not met in time, with the stats in the message', async () => {
    const rx = await receiver();
    await expect(rx.waitFor((x) => x.records > 0, 50)).rejects.toThrow(
      /^receiver: condition not met within 50 ms; stats \{"messages":0,"invalid":0,"records":0,/,
    );
  });

  it('checks a wait after a payload that is not JSON', async () => {
    const rx = await receiver();
    await send(t.data, 'not json');
    expect(await rx.waitFor((x) => x.invalid === 1, 3000)).toMatchObject({ messages: 1, invalid: 1 });
  });
});

describe('the receiver, its MQTT session', () => {
  it('gets what was published while it was cut off (persistent session, QoS 1 subscription)', async () => {
    const rx = await receiver({ clientId: 'platform-keep' });
    await broker.stop();
    await publishInBroker(t.data, data('live', [1, 2, 3]));
    await broker.start();
    expect(await rx.waitFor((x) => x.records === 3, 5000)).toMatchObject({ maxSeq: 3 });
  });

  it('with clean: true, loses what was published while it was cut off', async () => {
    const rx = await receiver({ clientId: 'platform-clean', clean: true });
    await broker.stop();
    await publishInBroker(t.data, data('live', [1, 2, 3]));
    const again = subscribed(broker, 'platform-clean');
    await broker.start();
    await again;
    await send(t.data, data('live', [10]));
    expect(await rx.waitFor((x) => x.messages === 1, 5000)).toMatchObject({ records: 1, maxSeq: 10 });
  });

  it('subscribes again when a restarted broker forgot its session, at QoS 1', async () => {
    // mqtt.js would subscribe again by itself; the receiver must not rely on that option.
    const rx = await receiver({ clientId: 'platform-resub', client: { resubscribe: false } });
    const port = broker.port;
    await broker.close();
    broker = await startEmbeddedBroker({ port });
    await subscribed(broker, 'platform-resub');
    await publishInBroker(t.data, data('live', [1]));
    await rx.waitFor((x) => x.records === 1, 3000);
    // The new subscription keeps messages for the session while the receiver is away.
    await broker.stop();
    await publishInBroker(t.data, data('live', [2]));
    await broker.start();
    expect(await rx.waitFor((x) => x.records === 2, 5000)).toMatchObject({ maxSeq: 2 });
  });

  it('does not subscribe again when the broker kept its session (retained messages come once)', async () => {
    const rx = await receiver({ clientId: 'platform-session' });
    const acked = new Promise<void>((resolve) =>
      broker.aedes.on('ack', (_p, client) => {
        if (client?.id === 'platform-session') resolve();
      }),
    );
    await send(t.state, state, true);
    await rx.waitFor((x) => x.messages === 1);
    await acked; // else the broker sends the state again, unacknowledged
    await broker.stop();
    const back = ready(broker, 'platform-session');
    await broker.start();
    await back;
    await send(t.data, data('live', [1]));
    await rx.waitFor((x) => x.records === 1, 5000);
    await new Promise((r) => setTimeout(r, 200)); // time for a second copy of the state to arrive
    expect(rx.stats().messages).toBe(2);
  });

  it('disconnects on close', async () => {
    const rx = await createReceiver({ url: broker.url, gatewayId: gw, clientId: 'platform-close' });
    const gone = new Promise<string>((resolve) => {
      const timer = setTimeout(() => resolve('still connected'), 2000);
      broker.aedes.on('clientDisconnect', (c) => {
        if (c.id !== 'platform-close') return;
        clearTimeout(timer);
        resolve('gone');
      });
    });
    await rx.close();
    expect(await gone).toBe('gone');
  });
});
