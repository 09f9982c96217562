import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openLog, type Log } from '../../../gateway/src/store/index.js';
import { MqttPublisher } from '../../../gateway/src/uplink/mqtt/publisher.js';
import { startPlatform, type PlatformWitness } from '../../../hardware-sim/src/platform/index.js';
import { brokerKinds, brokerTitle, type TestBroker } from '../../helpers/broker.js';
import { startMqttProxy } from '../../helpers/mqtt-proxy.js';
import { ackedThrough, connected } from '../../helpers/uplink-wait.js';
import { syntheticAggregate, syntheticBatch, tempDir, type TempDir } from '../../helpers/store-fixtures.js';

/** Resolves once `check` holds, testing it every 20 ms. */
async function until(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.each(brokerKinds())('MQTT publisher', (kind) => {
  describe.skipIf(kind.skip !== undefined)(`against ${brokerTitle(kind)}`, () => {
    let broker: TestBroker;
    let tmp: TempDir;
    let log: Log;
    let publisher: MqttPublisher | undefined;
    let receiver: PlatformWitness | undefined;
    const gatewayId = 'gw-test';

    beforeEach(async () => {
      broker = await kind.start();
      tmp = tempDir();
      log = openLog({ path: tmp.file('log.db') });
    });
    afterEach(async () => {
      await publisher?.stop();
      await receiver?.close();
      publisher = undefined;
      receiver = undefined;
      log.close();
      await broker.close();
      tmp.remove();
    });

    const startPublisher = (extra: Partial<ConstructorParameters<typeof MqttPublisher>[1]> = {}) => {
      publisher = new MqttPublisher(log, {
        url: broker.url,
        clientId: 'gw-test-uplink',
        gatewayId,
        batch: { maxReadings: 200, lingerMs: 20 },
        inFlight: 8,
        reconnectPeriodMs: 100,
        ...extra,
      });
      publisher.start();
      return publisher;
    };

    it('delivers every record live, in seq order, with its content, and says online', async () => {
      receiver = await startPlatform({ url: broker.url, gatewayId, keepReadings: true });
      startPublisher();
      await connected(publisher!);
      const expected = syntheticBatch(0, 1000);
      for (let i = 0; i < 1000; i += 50) log.append(expected.slice(i, i + 50));
      log.appendEvent({ ts: 5, kind: 'alarm', payload: { point: 'so2', level: 'high' } });
      log.appendAggregates([syntheticAggregate(1), syntheticAggregate(2)]);
      log.appendBlob({ ts: 6, kind: 'snapshot', contentType: 'image/jpeg', bytes: Buffer.from('jpeg') });
      const s = await receiver.waitFor((x) => x.records === 1004 && x.state?.state === 'online');
      expect(s).toMatchObject({ invalid: 0, duplicates: 0, holes: [], maxSeq: 1004 });
      // Lane order is the gateway's only behind a broker that keeps it (see TestBroker.keepsOrder).
      if (broker.keepsOrder) expect(s.reorders).toBe(0);
      expect(s.lanes.replay.messages).toBe(0);
      expect(receiver.readings.get(1)).toEqual({ seq: 1, ...expected[0] });
      expect(receiver.readings.get(1000)).toEqual({ seq: 1000, ...expected[999] });
      expect(receiver.events.map((e) => e.kind)).toEqual(['alarm']);
      // The cursor follows the acknowledgements to the end.
      await ackedThrough(publisher!, 1004);
      await publisher!.stop();
      await receiver.waitFor((x) => x.state?.state === 'offline');
    });

    it('sends a live reading at once when nothing live awaits a PUBACK, without lingering', async () => {
      receiver = await startPlatform({ url: broker.url, gatewayId });
      // A linger far longer than the wait below: only sending at once can pass.
      startPublisher({ batch: { maxReadings: 500, lingerMs: 60_000 } });
      await connected(publisher!);
      for (let i = 0; i < 5; i++) {
        log.append(syntheticBatch(i * 3, 3));
        await ackedThrough(publisher!, (i + 1) * 3, 10_000);
        // Let the pump the PUBACK scheduled run first: only the append itself may wake it now.
        await new Promise((r) => setImmediate(r));
      }
      const s = await receiver.waitFor((x) => x.records === 15);
      expect(s.lanes.live.messages).toBe(5);
    });

    it('splits batches to fit maxMessageBytes and delivers every reading in order', async () => {
      receiver = await startPlatform({ url: broker.url, gatewayId, keepReadings: true });
      log.append(syntheticBatch(0, 2000));
      startPublisher({ batch: { maxReadings: 1000, lingerMs: 20 }, maxMessageBytes: 16 * 1024 });
      await ackedThrough(publisher!, 2000);
      const s = await receiver.waitFor((x) => x.records === 2000);
      expect(s).toMatchObject({ invalid: 0, duplicates: 0, holes: [] });
      if (broker.keepsOrder) expect(s.reorders).toBe(0);
      // 2 000 readings of about 100 bytes each cannot fit in two 16 KiB messages.
      expect(s.lanes.replay.messages).toBeGreaterThan(10);
    });

    it('replays a backlog in order, marked replay, while live batches keep flowing', async () => {
      for (let i = 0; i < 20_000; i += 500) log.append(syntheticBatch(i, 500));
      receiver = await startPlatform({ url: broker.url, gatewayId });
      startPublisher({ inFlight: 4 });
      await connected(publisher!);
      let produced = 20_000;
      while (publisher!.status().lane === 'replay') {
        log.append(syntheticBatch(produced, 20));
        produced += 20;
        await new Promise((r) => setTimeout(r, 5));
      }
      const s = await receiver.waitFor((x) => x.records === produced);
      expect(s).toMatchObject({ invalid: 0, duplicates: 0, holes: [] });
      // Lane order is the gateway's only behind a broker that keeps it (see TestBroker.keepsOrder).
      if (broker.keepsOrder) expect(s.reorders).toBe(0);
      expect(s.lanes.replay.lastSeq).toBe(20_000);
      expect(s.lanes.live.messages).toBeGreaterThan(0);
      // Live batches arrived while the replay was still going.
      expect(produced).toBeGreaterThan(20_000);
      await ackedThrough(publisher!, produced);
      expect(publisher!.status()).toMatchObject({ backlog: 0, inFlight: 0, lane: 'live' });
    });

    it('publishes a retained health message with backlog and per-device counters', async () => {
      log.append(syntheticBatch(0, 300));
      startPublisher({ healthIntervalMs: 1000 });
      await connected(publisher!);
      // A receiver that comes later still gets the retained health.
      receiver = await startPlatform({ url: broker.url, gatewayId });
      const s = await receiver.waitFor(
        (x) => x.health !== undefined && x.health.uplink.backlog === 0 && x.state !== undefined,
        15_000,
      );
      // The online state was said before this receiver came: it too is retained.
      expect(s.state).toMatchObject({ gateway: gatewayId, state: 'online' });
      expect(s.health).toMatchObject({
        gateway: gatewayId,
        logId: log.logId,
        log: { lastSeq: 300 },
        uplink: {
          ackedThrough: 300,
          backlog: 0,
          oldestUndeliveredTs: null,
          lane: 'live',
          signingKey: null,
        },
        counters: { gapEvents: 0, droppedRecords: 0 },
      });
      expect(s.health!.devices.stack1!.readings).toBe(100);
      // No key, no refusal, no fault: the status says null for the key and leaves the others out;
      // the first connection is not a reconnect.
      const status = publisher!.status();
      expect(status).toMatchObject({ signingKey: null, reconnects: 0, publishErrors: 0, refusedLogins: 0 });
      expect(Object.keys(status)).not.toContain('lastRefusal');
      expect(Object.keys(status)).not.toContain('fault');
    });

    it('resends a range from the log on the replay lane when asked, and refuses what it cannot', async () => {
      const p = startPublisher({ batch: { maxReadings: 10, lingerMs: 20 } });
      await expect(p.resend(1, 5)).rejects.toMatchObject({
        code: 'UPLINK_NOT_CONNECTED',
        context: { uplink: 'mqtt' },
      });
      const expected = syntheticBatch(0, 30);
      log.append(expected);
      await ackedThrough(p, 30);
      // Nothing is retained for data: this receiver sees the resent copy alone.
      receiver = await startPlatform({ url: broker.url, gatewayId, keepReadings: true });
      expect(await p.resend(11, 25)).toEqual({ from: 11, to: 25, messages: 1 });
      const s = await receiver.waitFor((x) => x.records === 15);
      expect(s).toMatchObject({ invalid: 0, maxSeq: 25 });
      expect(s.lanes.replay.messages).toBe(1);
      expect(s.lanes.live.messages).toBe(0);
      expect(receiver.readings.get(10)).toBeUndefined();
      expect(receiver.readings.get(11)).toEqual({ seq: 11, ...expected[10] });
      expect(receiver.readings.get(25)).toEqual({ seq: 25, ...expected[24] });
      // A copy, not a delivery: the cursor and the window are as they were.
      expect(p.status()).toMatchObject({ ackedThrough: 30, inFlight: 0, backlog: 0 });

      expect(await p.resend(30, 30)).toEqual({ from: 30, to: 30, messages: 1 });
      await expect(p.resend(25, 31)).rejects.toMatchObject({
        code: 'UPLINK_RESEND_RANGE',
        context: { uplink: 'mqtt', from: 25, to: 31, lastSeq: 30 },
      });
      expect(await p.resend(1, 30, 1)).toEqual({ from: 1, to: 30, messages: 1 });
      await expect(p.resend(1, 30, 0)).rejects.toMatchObject({
        code: 'UPLINK_RESEND_RANGE',
        context: { uplink: 'mqtt', from: 1, to: 30 },
      });
    });

    it('marks nothing delivered before the broker acknowledges it (PUBACK), then everything', async () => {
      // A proxy that holds the broker's PUBACKs: the messages arrive, their acknowledgements do not.
      const proxy = await startMqttProxy(broker.port);
      try {
        startPublisher({ url: proxy.url, batch: { maxReadings: 100, lingerMs: 20 }, inFlight: 4 });
        await connected(publisher!);
        proxy.pubacks('hold');
        log.append(syntheticBatch(0, 1000));
        await until(() => proxy.held() >= 4, 'the window of PUBACKs held');
        expect(publisher!.status()).toMatchObject({ inFlight: 4, ackedThrough: 0, backlog: 1000 });
        proxy.pubacks('pass');
        proxy.releaseHeld();
        await ackedThrough(publisher!, 1000);
        expect(publisher!.status()).toMatchObject({ inFlight: 0, backlog: 0, publishErrors: 0 });
        await publisher!.stop();
      } finally {
        await proxy.close();
      }
    });

    it('leaves its offline state (with the reason) and its last health retained for a platform that comes later', async () => {
      log.append(syntheticBatch(0, 10));
      startPublisher();
      await ackedThrough(publisher!, 10);
      await publisher!.stop('config_reload');
      // Nothing is connected any more: only retained messages can reach this receiver.
      receiver = await startPlatform({ url: broker.url, gatewayId });
      const s = await receiver.waitFor((x) => x.state !== undefined && x.health !== undefined, 10_000);
      expect(s.state).toMatchObject({ gateway: gatewayId, state: 'offline', reason: 'config_reload' });
      expect(s.health).toMatchObject({ gateway: gatewayId, log: { lastSeq: 10 } });
    });
  });
});
