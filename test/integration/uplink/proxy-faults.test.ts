/**
 * Faults only a broker that misbehaves can show, made by a proxy in front of a real Mosquitto
 * (test/helpers/mqtt-proxy.ts): acknowledgements withheld or late, a connection cut mid-flight,
 * a broker that stalls with its TCP connection open. On loopback an honest broker has every
 * message before anything can go wrong; these tests take that luck away.
 *
 * The SIGKILL tests kill the mutant "mark the cursor done when a message is sent instead of when
 * its PUBACK arrives", which the plain kill and outage tests let through (checked by applying it
 * by hand: both cases here fail, kill.test.ts passes).
 */
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openLog, RangeSet, type Log } from '../../../gateway/src/store/index.js';
import { MqttPublisher } from '../../../gateway/src/uplink/mqtt/publisher.js';
import { createReceiver, type Receiver } from '../../../gateway/src/uplink/mqtt/receiver.js';
import { mosquittoBinary, startMosquitto, type TestBroker } from '../../helpers/broker.js';
import { startMqttProxy, type MqttProxy } from '../../helpers/mqtt-proxy.js';
import { PRODUCER } from '../../helpers/producer-settings.js';
import { runTs, type Child } from '../../helpers/store-child.js';
import { syntheticBatch, tempDir, type TempDir } from '../../helpers/store-fixtures.js';
import { ackedThrough, connected } from '../../helpers/uplink-wait.js';

const producer = fileURLToPath(new URL('../../helpers/producer-gateway.ts', import.meta.url));

/** Resolves once `check` holds, testing it every 20 ms. */
async function until(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Seqs the log has marked delivered for the MQTT uplink. */
function doneInLog(path: string): RangeSet {
  const log = openLog({ path });
  try {
    const c = log.cursor('mqtt').snapshot();
    const done = new RangeSet(c.ranges);
    if (c.prefix > 0) done.add(1, c.prefix);
    return done;
  } finally {
    log.close();
  }
}

describe.skipIf(!mosquittoBinary())('the MQTT uplink behind a misbehaving broker (proxy + Mosquitto)', () => {
  let broker: TestBroker;
  let proxy: MqttProxy;
  let tmp: TempDir;
  let receiver: Receiver | undefined;
  let publisher: MqttPublisher | undefined;
  let log: Log | undefined;
  const children: Child[] = [];

  beforeEach(async () => {
    broker = await startMosquitto();
    proxy = await startMqttProxy(broker.port);
    tmp = tempDir();
  });
  afterEach(async () => {
    for (const c of children.splice(0)) await c.kill();
    await publisher?.stop();
    await receiver?.close();
    log?.close();
    publisher = receiver = log = undefined;
    await proxy.close();
    await broker.close();
    tmp.remove();
  });

  /** A publisher on a fresh log, connecting through the proxy; a receiver on the broker itself. */
  async function publisherThroughProxy(
    extra: Partial<ConstructorParameters<typeof MqttPublisher>[1]>,
  ): Promise<MqttPublisher> {
    log = openLog({ path: tmp.file('log.db') });
    receiver = await createReceiver({ url: broker.url, gatewayId: 'gw-proxy', keepReadings: true });
    const p = new MqttPublisher(log, {
      url: proxy.url,
      gatewayId: 'gw-proxy',
      reconnectPeriodMs: 100,
      ...extra,
    });
    p.start();
    return p;
  }

  it.each([
    ['reached the broker', true],
    ['never reached the broker', false],
  ])(
    'resends everything after a SIGKILL while PUBACKs were withheld and the messages %s: no hole',
    { timeout: 90_000 },
    async (_, forwarded) => {
      const path = tmp.file('log.db');
      receiver = await createReceiver({ url: broker.url, gatewayId: PRODUCER.gatewayId, keepReadings: true });
      proxy.pubacks('hold');
      proxy.forwardPublishes(forwarded);
      const total = 400;
      const first = runTs(producer, [path, proxy.url, String(total)]);
      children.push(first);
      await first.waitForLine(new RegExp(`^committed ${total}$`), 30_000);
      // The window is full: every message allowed in flight went out, none was acknowledged.
      await until(
        () => proxy.counters.publishes + proxy.counters.swallowed >= PRODUCER.maxInFlight,
        'a full window sent',
      );
      await first.kill();
      // Without a PUBACK nothing may count as delivered, however sure the send looked.
      expect(doneInLog(path).toArray()).toEqual([]);

      proxy.pubacks('pass');
      proxy.forwardPublishes(true);
      const second = runTs(producer, [path, proxy.url, String(total)]);
      children.push(second);
      await second.waitForLine(/^idle /, 30_000);
      const s = await receiver.waitFor((x) => x.maxSeq >= total && x.holes.length === 0, 30_000);
      expect(s).toMatchObject({ records: total, holes: [], invalid: 0 });
      expect(receiver.readings.get(total)).toEqual({ seq: total, ...syntheticBatch(0, total)[total - 1] });
      await second.kill();
      expect(doneInLog(path).toArray()).toEqual([[1, total]]);
    },
  );

  it(
    'takes acknowledgements that arrive after a reconnect, losing nothing',
    { timeout: 60_000 },
    async () => {
      publisher = await publisherThroughProxy({ batch: { maxReadings: 100, lingerMs: 20 }, inFlight: 4 });
      await connected(publisher);
      proxy.pubacks('hold');
      log!.append(syntheticBatch(0, 1000));
      await until(() => proxy.held() >= 4, 'the window of PUBACKs held');
      expect(publisher.status()).toMatchObject({ inFlight: 4, ackedThrough: 0 });

      // The connection drops with four messages unacknowledged; the session resends them on the
      // next connection (mqtt.js says `connect` only once its resends are acknowledged).
      const reconnected = new Promise((resolve) => publisher!.once('connected', () => resolve(undefined)));
      const sentBefore = proxy.counters.publishes;
      proxy.cut();
      await until(
        () => proxy.counters.connections === 2 && proxy.counters.publishes > sentBefore,
        'a resend on a new connection',
      );
      // The old connection's acknowledgements arrive late, on the new connection.
      proxy.pubacks('pass');
      proxy.releaseHeld();
      await reconnected;
      await ackedThrough(publisher, 1000);
      const s = await receiver!.waitFor((x) => x.maxSeq >= 1000 && x.holes.length === 0);
      expect(s).toMatchObject({ records: 1000, holes: [], invalid: 0 });
      // Only the four messages in flight at the cut can have come twice.
      expect(s.duplicates).toBeLessThanOrEqual(4 * 100);
      expect(publisher.status()).toMatchObject({ inFlight: 0, backlog: 0, connected: true });
    },
  );

  it('notices a stalled broker by keepalive, reconnects and delivers', { timeout: 90_000 }, async () => {
    publisher = await publisherThroughProxy({ keepaliveS: 5 });
    await connected(publisher);
    log!.append(syntheticBatch(0, 100));
    await ackedThrough(publisher, 100);

    // TCP stays open, nothing moves either way: only the keepalive can tell.
    proxy.stall();
    const lost = new Promise((resolve) => publisher!.once('disconnected', () => resolve(undefined)));
    log!.append(syntheticBatch(100, 100));
    await lost;
    await proxy.stalledClosed();
    await connected(publisher, 30_000);
    await ackedThrough(publisher, 200, 30_000);
    const s = await receiver!.waitFor((x) => x.maxSeq >= 200 && x.holes.length === 0);
    expect(s).toMatchObject({ records: 200, holes: [], invalid: 0 });
    expect(publisher.status().reconnects).toBeGreaterThanOrEqual(1);
  });
});
