import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isLantianError } from '../../../gateway/src/core/errors.js';
import { openLog, type Log } from '../../../gateway/src/store/index.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../../gateway/src/uplink/mqtt/broker.js';
import { MqttPublisher } from '../../../gateway/src/uplink/mqtt/publisher.js';
import { syntheticBatch, tempDir, type TempDir } from '../../helpers/store-fixtures.js';
import { makeTlsFiles, type TlsFiles } from '../../helpers/uplink-tls.js';
import { ackedThrough } from '../../helpers/uplink-wait.js';

let tmp: TempDir;
let tls: TlsFiles;
let log: Log;
let broker: EmbeddedBroker | undefined;
let publisher: MqttPublisher | undefined;

beforeEach(() => {
  tmp = tempDir();
  tls = makeTlsFiles(tmp);
  log = openLog({ path: tmp.file('log.db') });
});
afterEach(async () => {
  await publisher?.stop();
  publisher = undefined;
  await broker?.close();
  broker = undefined;
  log.close();
  tmp.remove();
});

const base = { clientId: 'gw-tls', gatewayId: 'gw-tls', reconnectPeriodMs: 100, batch: { lingerMs: 10 } };

function firstConnectError(p: MqttPublisher): Promise<Error> {
  return new Promise((resolve) => p.once('connectError', resolve));
}

describe('MQTT over TLS', () => {
  it('verifies the broker against the configured CA and presents the client certificate', async () => {
    broker = await startEmbeddedBroker({
      tls: {
        key: tls.read(tls.serverKey),
        cert: tls.read(tls.serverCert),
        ca: tls.read(tls.ca),
        requestCert: true,
        rejectUnauthorized: true,
      },
    });
    expect(broker.url).toMatch(/^mqtts:/);
    let clientCn: string | undefined;
    broker.aedes.on('client', (c) => {
      const conn = c.conn as { getPeerCertificate?: () => { subject?: { CN?: string } } };
      clientCn = conn.getPeerCertificate?.().subject?.CN;
    });
    publisher = new MqttPublisher(log, {
      ...base,
      url: broker.url,
      tls: { ca: tls.ca, cert: tls.clientCert, key: tls.clientKey },
    });
    publisher.start();
    log.append(syntheticBatch(0, 50));
    await ackedThrough(publisher, 50);
    expect(clientCn).toBe('gw-tls');
  });

  it('refuses a broker whose certificate it cannot verify, unless told so in a test', async () => {
    broker = await startEmbeddedBroker({
      tls: { key: tls.read(tls.serverKey), cert: tls.read(tls.serverCert) },
    });
    publisher = new MqttPublisher(log, { ...base, url: broker.url });
    const failed = firstConnectError(publisher);
    publisher.start();
    expect((await failed).message).toMatch(/certificate/i);
    expect(publisher.status().connected).toBe(false);
    await publisher.stop();

    publisher = new MqttPublisher(log, {
      ...base,
      url: broker.url,
      tls: { insecureSkipVerifyInTestsOnly: true },
    });
    publisher.start();
    log.append(syntheticBatch(0, 10));
    await ackedThrough(publisher, 10);
  });

  it('says which side is likely wrong when TLS meets a plain port, or plain meets a TLS port', async () => {
    broker = await startEmbeddedBroker({ port: 0 });
    publisher = new MqttPublisher(log, {
      ...base,
      url: broker.url.replace('mqtt://', 'mqtts://'),
      tls: { insecureSkipVerifyInTestsOnly: true },
    });
    let failed = firstConnectError(publisher);
    publisher.start();
    expect((await failed).message).toMatch(/probably speaks plain MQTT; use mqtt:\/\//);
    await publisher.stop();
    await broker.close();

    broker = await startEmbeddedBroker({
      tls: { key: tls.read(tls.serverKey), cert: tls.read(tls.serverCert) },
    });
    publisher = new MqttPublisher(log, { ...base, url: broker.url.replace('mqtts://', 'mqtt://') });
    failed = firstConnectError(publisher);
    publisher.start();
    expect((await failed).message).toMatch(/probably expects TLS; use mqtts:\/\//);
    expect(publisher.status().connected).toBe(false);
  });

  it('names an unreadable TLS file and rejects invalid options with their own codes', () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return isLantianError(e) ? { code: e.code, context: e.context } : e;
      }
      return undefined;
    };
    const missing = tmp.file('nope.pem');
    const p = new MqttPublisher(log, { ...base, url: 'mqtts://127.0.0.1:1', tls: { ca: missing } });
    expect(code(() => p.start())).toMatchObject({ code: 'UPLINK_TLS', context: { file: missing } });
    expect(
      code(() => new MqttPublisher(log, { ...base, url: 'http://x', batch: { maxReadings: 0 } })),
    ).toMatchObject({
      code: 'UPLINK_OPTIONS_INVALID',
    });
  });
});
