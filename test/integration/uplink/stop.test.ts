import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openLog, type Log } from '../../../gateway/src/store/index.js';
import { MqttPublisher, type StopReason } from '../../../gateway/src/uplink/mqtt/publisher.js';
import { createReceiver, type Receiver } from '../../../gateway/src/uplink/mqtt/receiver.js';
import { brokerKinds, brokerTitle, type TestBroker } from '../../helpers/broker.js';
import { syntheticBatch, tempDir, type TempDir } from '../../helpers/store-fixtures.js';
import { ackedThrough } from '../../helpers/uplink-wait.js';

const gatewayId = 'gw-stop';

describe.each(brokerKinds())('a clean stop of the MQTT uplink', (kind) => {
  describe.skipIf(kind.skip !== undefined)(`against ${brokerTitle(kind)}`, () => {
    let broker: TestBroker;
    let tmp: TempDir;
    let log: Log;
    const receivers: Receiver[] = [];

    beforeEach(async () => {
      broker = await kind.start();
      tmp = tempDir();
      log = openLog({ path: tmp.file('log.db') });
    });
    afterEach(async () => {
      await Promise.all(receivers.splice(0).map((r) => r.close()));
      log.close();
      await broker.close();
      tmp.remove();
    });

    const receiver = async () => {
      const r = await createReceiver({ url: broker.url, gatewayId });
      receivers.push(r);
      return r;
    };

    it.each<StopReason>(['stopped', 'config_reload'])(
      'leaves the gateway’s own offline state with reason %s retained, not the last will',
      async (reason) => {
        const watching = await receiver();
        const publisher = new MqttPublisher(log, { url: broker.url, gatewayId, reconnectPeriodMs: 100 });
        publisher.start();
        log.append(syntheticBatch(0, 100));
        await ackedThrough(publisher, 100);
        const stoppedAt = Date.now();
        await publisher.stop(reason);

        // A will would come after the gateway's offline (the broker fires it when the socket
        // closes); the broker has handled the close once a later client's session is up.
        await watching.waitFor((x) => x.state?.state === 'offline');
        const later = await receiver();
        const s = await later.waitFor((x) => x.state !== undefined);
        expect(s.state).toMatchObject({ state: 'offline', reason });
        expect(s.state!.ts).toBeGreaterThanOrEqual(stoppedAt);
        expect(watching.stats().state).toEqual(s.state);
      },
    );
  });
});
