import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadSiteConfig } from '../../../gateway/src/config/index.js';
import { mqttOptions } from '../../../gateway/src/gateway.js';
import { openLog, type Log } from '../../../gateway/src/store/index.js';
import { MqttPublisher } from '../../../gateway/src/uplink/mqtt/publisher.js';
import { createReceiver, type Receiver } from '../../../gateway/src/uplink/mqtt/receiver.js';
import { mosquittoBinary, startMosquitto, type MosquittoBroker } from '../../helpers/broker.js';
import { syntheticBatch, tempDir, type TempDir } from '../../helpers/store-fixtures.js';
import { makeTlsFiles } from '../../helpers/uplink-tls.js';
import { ackedThrough } from '../../helpers/uplink-wait.js';
import { writeFileSync } from 'node:fs';

const gatewayId = 'gw-ws';

describe.skipIf(!mosquittoBinary())('MQTT over WebSocket, against Mosquitto', () => {
  let tmp: TempDir;
  let log: Log;
  let broker: MosquittoBroker | undefined;
  let publisher: MqttPublisher | undefined;
  let receiver: Receiver | undefined;

  beforeEach(() => {
    tmp = tempDir();
    log = openLog({ path: tmp.file('log.db') });
  });
  afterEach(async () => {
    await publisher?.stop();
    await receiver?.close();
    await broker?.close();
    publisher = receiver = broker = undefined;
    log.close();
    tmp.remove();
  });

  /** A site config with this url goes through the same mapping as `lantian run`. */
  function optionsFromSite(url: string, tls = '') {
    const file = tmp.file('site.yaml');
    writeFileSync(
      file,
      `version: 1
site: { id: ws-site, name: WebSocket site }
gateway: { id: ${gatewayId} }
buses:
  line1: { kind: rtu-over-tcp, host: 127.0.0.1, port: 1, baud: 9600 }
devices:
  dust1: { profile: sdl.scs-900cpm, bus: line1, unitId: 1 }
uplinks:
  mqtt: { url: '${url}', reconnectPeriodMs: 100${tls} }
storage: { path: log.db }
`,
    );
    return mqttOptions(loadSiteConfig(file))!;
  }

  async function deliversThrough(url: string, tls = ''): Promise<void> {
    receiver = await createReceiver({ url: broker!.url, gatewayId, keepReadings: true });
    publisher = new MqttPublisher(log, optionsFromSite(url, tls));
    publisher.start();
    log.append(syntheticBatch(0, 300));
    await ackedThrough(publisher, 300);
    const s = await receiver.waitFor((x) => x.records === 300);
    expect(s).toMatchObject({ invalid: 0, duplicates: 0, holes: [], maxSeq: 300 });
  }

  it('delivers a site configured with a ws:// url through the WebSocket listener', async () => {
    broker = await startMosquitto({ websockets: true });
    expect(broker.wsUrl).toMatch(/^ws:\/\//);
    await deliversThrough(broker.wsUrl!);
  });

  it('delivers a site configured with a wss:// url through a TLS WebSocket listener', async () => {
    const files = makeTlsFiles(tmp);
    broker = await startMosquitto({
      websockets: true,
      tls: { cert: files.serverCert, key: files.serverKey },
    });
    expect(broker.wsUrl).toMatch(/^wss:\/\//);
    await deliversThrough(broker.wsUrl!, `, tls: { ca: '${files.ca}' }`);
  });
});
