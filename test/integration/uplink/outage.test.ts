import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../gateway/src/core/clock.js';
import { openLog, type Log } from '../../../gateway/src/store/index.js';
import { MqttPublisher } from '../../../gateway/src/uplink/mqtt/publisher.js';
import { startPlatform, summary, type PlatformWitness } from '../../../hardware-sim/src/platform/index.js';
import { brokerKinds, brokerTitle, type TestBroker } from '../../helpers/broker.js';
import { syntheticBatch, tempDir, type TempDir } from '../../helpers/store-fixtures.js';
import { ackedThrough, connected } from '../../helpers/uplink-wait.js';

const gatewayId = 'gw-outage';
const settings = { batchSize: 100, maxInFlight: 8 };

describe.each(brokerKinds())('broker outage during production', (kind) => {
  describe.skipIf(kind.skip !== undefined)(`against ${brokerTitle(kind)}`, () => {
    let broker: TestBroker;
    let tmp: TempDir;
    let log: Log;
    let publisher: MqttPublisher;
    let receiver: PlatformWitness;

    const setUp = async (quotaBytes?: number) => {
      log = openLog({ path: tmp.file('log.db'), quotaBytes });
      receiver = await startPlatform({ url: broker.url, gatewayId, keepReadings: true });
      publisher = new MqttPublisher(log, {
        url: broker.url,
        clientId: 'gw-outage-uplink',
        gatewayId,
        reconnectPeriodMs: 100,
        batch: { maxReadings: settings.batchSize, lingerMs: 20 },
        inFlight: settings.maxInFlight,
      });
      publisher.start();
      await connected(publisher);
    };

    /** Steady production: one poll of `perPoll` readings every 10 ms, for `ms`. */
    const produce = async (ms: number, perPoll = 20) => {
      const end = systemClock.monotonic() + ms;
      while (systemClock.monotonic() < end) {
        log.append(syntheticBatch(log.lastSeq, perPoll));
        await systemClock.sleep(10);
      }
    };

    beforeEach(async () => {
      broker = await kind.start();
      tmp = tempDir();
    });
    afterEach(async () => {
      await publisher?.stop();
      await receiver?.close();
      log?.close();
      await broker.close();
      tmp.remove();
    });

    it(
      'delivers every reading after the broker comes back, in order within each lane',
      { timeout: 60_000 },
      async () => {
        await setUp();
        await produce(500);
        await broker.stop();
        await produce(1500);
        const duringOutage = log.lastSeq;
        expect(publisher.status().backlog).toBeGreaterThan(0);
        await broker.start();
        await produce(800);
        const last = log.lastSeq;
        await ackedThrough(publisher, last);
        const s = await receiver.waitFor((x) => x.maxSeq >= last && x.holes.length === 0);

        expect(summary(s)).toMatchObject({ records: last, holes: [], gaps: 0, invalid: 0 });
        // Lane order is the gateway's only behind a broker that keeps it (see TestBroker.keepsOrder).
        if (broker.keepsOrder) expect(s.reorders).toBe(0);
        // What was written during the outage came back as replay.
        expect(s.lanes.replay.messages).toBeGreaterThan(0);
        expect(s.lanes.replay.lastSeq).toBeLessThanOrEqual(
          duringOutage + settings.batchSize * settings.maxInFlight,
        );
        expect(s.lanes.live.lastSeq).toBe(last);
        // Duplicates can only be messages in flight when the connection dropped.
        expect(s.duplicates).toBeLessThanOrEqual(settings.batchSize * settings.maxInFlight);
        const expected = syntheticBatch(0, last);
        for (const seq of [1, duringOutage, last])
          expect(receiver.readings.get(seq)).toEqual({ seq, ...expected[seq - 1] });
      },
    );

    it(
      'evicts under the quota during a long outage and the gap event reaches the receiver',
      { timeout: 90_000 },
      async () => {
        const quotaBytes = 600_000;
        await setUp(quotaBytes);
        await produce(300);
        await broker.stop();
        // About 35 bytes a reading: this outage writes several times the quota.
        while (log.stats().gapEvents < 2) await produce(100, 2000);
        expect(log.stats().bytes).toBeLessThanOrEqual(quotaBytes);
        await broker.start();
        await produce(300);
        const last = log.lastSeq;
        await ackedThrough(publisher, last);
        const s = await receiver.waitFor((x) => x.maxSeq >= last && x.holes.length === 0);

        // Every missing seq is explained by a gap event the receiver got; nothing else is missing.
        expect(s.gaps.length).toBeGreaterThanOrEqual(2);
        expect(s.gaps.every((g) => g.reason === 'quota' && g.uplinks.includes('mqtt'))).toBe(true);
        // A gap may name records the receiver has anyway: messages in flight when the eviction
        // ran (before the outage, or in the replay after it) still arrive.
        const lost = s.gaps.reduce((n, g) => n + g.count, 0);
        expect(s.records).toBeGreaterThanOrEqual(last - lost);
        expect(s.records).toBeLessThan(last);
        expect(summary(s)).toMatchObject({ holes: [], invalid: 0 });
        // Lane order is the gateway's only behind a broker that keeps it (see TestBroker.keepsOrder).
        if (broker.keepsOrder) expect(s.reorders).toBe(0);
        expect(log.stats().droppedRecords).toBe(lost);
      },
    );
  });
});
