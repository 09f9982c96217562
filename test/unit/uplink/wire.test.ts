/**
 * What goes on the wire, field by field: every kind of log record as its message (readings keep
 * their `quality` and `raw` evidence), runs split by kind in seq order, the contract enforced
 * on the way out, and the retained health message built from the log and the publisher.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isLantianError } from '../../../gateway/src/core/errors.js';
import { openLog, type Log, type LogRecord } from '../../../gateway/src/store/index.js';
import {
  CONTRACT_VERSION,
  topics,
  type AggBatch,
  type BlobMessage,
  type DataBatch,
  type EventMessage,
} from '../../../gateway/src/uplink/mqtt/contract.js';
import { buildHealth } from '../../../gateway/src/uplink/mqtt/health.js';
import { recordTs, toMessages } from '../../../gateway/src/uplink/mqtt/messages.js';
import { resolveOptions } from '../../../gateway/src/uplink/mqtt/options.js';
import type { PublisherStatus } from '../../../gateway/src/uplink/mqtt/publisher.js';
import { syntheticAggregate, syntheticBatch, tempDir, type TempDir } from '../../helpers/store-fixtures.js';

const t = topics('lantian/v1/gw');

const reading = (seq: number, extra: Partial<LogRecord> = {}): LogRecord =>
  ({
    type: 'reading',
    seq,
    ts: 1000 + seq,
    device: 'stack1',
    point: 'so2',
    value: seq / 2,
    flag: 'N',
    ...extra,
  }) as LogRecord;
const event = (seq: number): LogRecord => ({
  type: 'event',
  seq,
  ts: 2000 + seq,
  kind: 'alarm',
  payload: { n: seq },
});
const aggregate = (seq: number): LogRecord => ({ type: 'aggregate', seq, ...syntheticAggregate(seq) });
const blob = (seq: number): LogRecord => ({
  type: 'blob',
  seq,
  ts: 3000 + seq,
  kind: 'snapshot',
  contentType: 'image/jpeg',
  bytes: new Uint8Array([0xff, 0xd8, seq]),
});

describe('records as messages', () => {
  it('puts every reading field on the wire, with its quality reasons, register words and missed slots', () => {
    const records = [
      reading(1, { flag: 'T', quality: ['out_of_range'], raw: [0x4213, 0x3333] }),
      reading(2, { quality: [], raw: [] }),
      reading(3, { value: null, flag: 'B', missed: { slots: 2, from: 803, periodMs: 100 } }),
    ];
    const [m] = toMessages(records, 'live', 'gw', t, true);
    expect(m!.topic).toBe(t.data);
    expect(JSON.parse(m!.payload)).toEqual({
      v: CONTRACT_VERSION,
      gateway: 'gw',
      lane: 'live',
      first: 1,
      last: 3,
      count: 3,
      readings: [
        {
          seq: 1,
          ts: 1001,
          device: 'stack1',
          point: 'so2',
          value: 0.5,
          flag: 'T',
          quality: ['out_of_range'],
          raw: [0x4213, 0x3333],
        },
        { seq: 2, ts: 1002, device: 'stack1', point: 'so2', value: 1, flag: 'N', quality: [], raw: [] },
        {
          seq: 3,
          ts: 1003,
          device: 'stack1',
          point: 'so2',
          value: null,
          flag: 'B',
          missed: { slots: 2, from: 803, periodMs: 100 },
        },
      ],
    });
  });

  it('sends one message per run of one kind, in seq order across topics', () => {
    const records = [
      reading(1),
      reading(2),
      event(3),
      event(4),
      aggregate(5),
      aggregate(6),
      blob(7),
      reading(8),
    ];
    const out = toMessages(records, 'replay', 'gw', t, true);
    expect(out.map((m) => m.topic)).toEqual([t.data, t.events, t.events, t.agg, t.blob('snapshot'), t.data]);
    const bodies = out.map((m) => JSON.parse(m.payload) as { lane: string; v: number; gateway: string });
    for (const b of bodies) expect([b.v, b.gateway, b.lane]).toEqual([CONTRACT_VERSION, 'gw', 'replay']);
    expect((bodies[0] as unknown as DataBatch).readings.map((r) => r.seq)).toEqual([1, 2]);
    expect(bodies[1]).toEqual({
      v: CONTRACT_VERSION,
      gateway: 'gw',
      lane: 'replay',
      seq: 3,
      ts: 2003,
      kind: 'alarm',
      payload: { n: 3 },
    } satisfies EventMessage);
    expect((bodies[2] as unknown as EventMessage).seq).toBe(4);
    const agg = bodies[3] as unknown as AggBatch;
    expect([agg.first, agg.last, agg.count]).toEqual([5, 6, 2]);
    expect(agg.aggregates[0]).toEqual({ seq: 5, ...syntheticAggregate(5) });
    expect('type' in agg.aggregates[0]!).toBe(false);
    expect(bodies[4]).toEqual({
      v: CONTRACT_VERSION,
      gateway: 'gw',
      lane: 'replay',
      seq: 7,
      ts: 3007,
      kind: 'snapshot',
      contentType: 'image/jpeg',
      data: Buffer.from([0xff, 0xd8, 7]).toString('base64'),
    } satisfies BlobMessage);
    expect((bodies[5] as unknown as DataBatch).first).toBe(8);
    expect(toMessages([], 'live', 'gw', t, true)).toEqual([]);
  });

  it('splits an aggregate batch over the size limit too, and keeps single events whole', () => {
    const aggs = [aggregate(1), aggregate(2), aggregate(3), aggregate(4)];
    const whole = toMessages(aggs, 'live', 'gw', t, true)[0]!;
    const parts = toMessages(aggs, 'live', 'gw', t, true, Buffer.byteLength(whole.payload) - 1);
    expect(parts.map((m) => (JSON.parse(m.payload) as AggBatch).aggregates.map((a) => a.seq))).toEqual([
      [1, 2],
      [3, 4],
    ]);
    const exact = toMessages(aggs, 'live', 'gw', t, true, Buffer.byteLength(whole.payload));
    expect(exact).toHaveLength(1);
    expect(toMessages([event(1)], 'live', 'gw', t, true, 1)).toHaveLength(1);
  });

  it('splits an odd batch with the larger half first', () => {
    const rs = [reading(1), reading(2), reading(3)];
    const whole = toMessages(rs, 'live', 'gw', t, true)[0]!;
    const parts = toMessages(rs, 'live', 'gw', t, true, Buffer.byteLength(whole.payload) - 1);
    expect(parts.map((m) => (JSON.parse(m.payload) as DataBatch).count)).toEqual([2, 1]);
  });

  it('refuses a record that breaks the contract with UPLINK_PAYLOAD_INVALID naming the topic', () => {
    const cases: LogRecord[][] = [
      [reading(1, { flag: 'X' as 'N' })],
      [{ ...event(1), kind: '' } as LogRecord],
      [{ ...blob(1), contentType: '' } as LogRecord],
      [{ ...aggregate(1), period: 'week' } as unknown as LogRecord],
    ];
    for (const records of cases) {
      try {
        toMessages(records, 'live', 'gw', t, true);
        expect.unreachable(JSON.stringify(records));
      } catch (e) {
        expect(isLantianError(e, 'UPLINK_PAYLOAD_INVALID')).toBe(true);
        expect((e as { context: { topic: string } }).context.topic).toMatch(/^lantian\/v1\/gw\//);
      }
    }
    // Without validation the same records go out as they are.
    for (const records of cases) expect(toMessages(records, 'live', 'gw', t, false)).toHaveLength(1);
  });

  it('stamps a record with its acquisition time, an aggregate with its period start', () => {
    expect(recordTs(reading(1))).toBe(1001);
    expect(recordTs(event(2))).toBe(2002);
    expect(recordTs(aggregate(3))).toBe(3 * 60_000);
  });
});

describe('the health message', () => {
  let tmp: TempDir;
  let log: Log;
  beforeEach(() => {
    tmp = tempDir();
  });
  afterEach(() => {
    log.close();
    tmp.remove();
  });
  const status: PublisherStatus = {
    connected: true,
    lane: 'replay',
    inFlight: 3,
    ackedThrough: 2,
    backlog: 7,
    publishErrors: 4,
    reconnects: 5,
    refusedLogins: 6,
  };
  const options = resolveOptions({ url: 'mqtt://127.0.0.1', gatewayId: 'gw1' });

  it('reports the log, the uplink, its counters and the devices as they stand', () => {
    log = openLog({ path: tmp.file('log.db'), quotaBytes: 5_000_000 });
    const ts0 = Date.UTC(2026, 0, 1);
    log.append(syntheticBatch(0, 9, ts0));
    const cursor = log.cursor('mqtt');
    cursor.markDone(1, 2);
    const now = ts0 + 10_000;
    const h = buildHealth(log, cursor, status, options, now);
    expect(h).toEqual({
      v: CONTRACT_VERSION,
      gateway: 'gw1',
      ts: now,
      boot: 1,
      logId: log.logId,
      log: { lastSeq: 9, bytes: log.stats().bytes, quotaBytes: 5_000_000 },
      uplink: {
        lane: 'replay',
        ackedThrough: 2,
        backlog: 7,
        oldestUndeliveredTs: ts0 + 200,
        oldestUndeliveredAgeMs: 10_000 - 200,
        inFlight: 3,
        lastRefusal: null,
        signingKey: null,
      },
      counters: {
        gapEvents: 0,
        droppedRecords: 0,
        publishErrors: 4,
        reconnects: 5,
        refusedLogins: 6,
        pendingReadings: 0,
        unloggedReadings: 0,
        logWriteFailures: 0,
      },
      devices: Object.fromEntries(log.deviceCounters()),
    });
    expect(Object.keys(h.devices).sort()).toEqual(['dust1', 'stack1', 'stack2']);
  });

  it('says null for what is not there: no quota, nothing undelivered; an age never below zero', () => {
    log = openLog({ path: tmp.file('log.db') });
    const cursor = log.cursor('mqtt');
    const refusal = {
      reasonCode: 135,
      reason: 'not authorized',
      ts: 5,
    } as unknown as PublisherStatus['lastRefusal'];
    const idle = buildHealth(log, cursor, { ...status, lastRefusal: refusal }, options, 1);
    expect(idle.log.quotaBytes).toBeNull();
    expect(idle.uplink.oldestUndeliveredTs).toBeNull();
    expect(idle.uplink.oldestUndeliveredAgeMs).toBeNull();
    expect(idle.uplink.lastRefusal).toEqual(refusal);
    log.append(syntheticBatch(0, 1, 5000));
    const early = buildHealth(log, cursor, status, options, 1000);
    expect(early.uplink.oldestUndeliveredTs).toBe(5000);
    expect(early.uplink.oldestUndeliveredAgeMs).toBe(0);
  });

  it('looks past done ranges over records the log no longer holds', () => {
    // Seqs 1-4 were never in this log (it started at 5); 5-10 were acknowledged ahead of the prefix.
    log = openLog({ path: tmp.file('log.db'), startSeq: 5 });
    const ts0 = Date.UTC(2026, 0, 1);
    log.append(syntheticBatch(0, 10, ts0)); // seq n has ts ts0 + (n - 5) * 100
    const cursor = log.cursor('mqtt');
    cursor.markDone(5, 10);
    expect(cursor.prefix).toBe(0);
    const h = buildHealth(log, cursor, status, options, ts0 + 60_000);
    expect(h.uplink.oldestUndeliveredTs).toBe(ts0 + 600);
    cursor.markDone(11, 14);
    expect(buildHealth(log, cursor, status, options, ts0).uplink.oldestUndeliveredTs).toBeNull();
  });

  it('hands out copies of the device counters', () => {
    log = openLog({ path: tmp.file('log.db') });
    log.append(syntheticBatch(0, 1));
    const h = buildHealth(log, log.cursor('mqtt'), status, options, 1);
    h.devices.stack1!.readings = 99;
    expect(log.deviceCounters().get('stack1')!.readings).toBe(1);
  });
});
