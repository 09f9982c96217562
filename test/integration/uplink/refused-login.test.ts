import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../gateway/src/core/logger.js';
import { openLog, type Log } from '../../../gateway/src/store/index.js';
import type { LoginRefusal } from '../../../gateway/src/uplink/mqtt/contract.js';
import { MqttPublisher } from '../../../gateway/src/uplink/mqtt/publisher.js';
import { createReceiver, type Receiver } from '../../../gateway/src/uplink/mqtt/receiver.js';
import { mosquittoBinary, startMosquitto, type MosquittoBroker } from '../../helpers/broker.js';
import { syntheticBatch, tempDir, type TempDir } from '../../helpers/store-fixtures.js';
import { ackedThrough } from '../../helpers/uplink-wait.js';

const gatewayId = 'gw-login';

/** Adds or changes a user in the broker's password file. */
function passwd(file: string, user: string, password: string): void {
  execFileSync('mosquitto_passwd', ['-b', file, user, password], { stdio: 'pipe', timeout: 10_000 });
}

function refusals(p: MqttPublisher, n: number, timeoutMs = 20_000): Promise<LoginRefusal> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`fewer than ${n} refusals in ${timeoutMs} ms`)),
      timeoutMs,
    );
    const on = (r: LoginRefusal) => {
      if (r.count < n) return;
      clearTimeout(timer);
      p.off('refused', on);
      resolve(r);
    };
    p.on('refused', on);
  });
}

describe.skipIf(!mosquittoBinary())(
  'a login the broker refuses, against Mosquitto with a password file',
  () => {
    let tmp: TempDir;
    let log: Log;
    let broker: MosquittoBroker;
    let publisher: MqttPublisher | undefined;
    let receiver: Receiver | undefined;
    const lines: { level: number; msg: string; retryInMs?: number }[] = [];

    beforeEach(() => {
      tmp = tempDir();
      log = openLog({ path: tmp.file('log.db') });
      lines.length = 0;
    });
    afterEach(async () => {
      await publisher?.stop();
      await receiver?.close();
      await broker.close();
      publisher = receiver = undefined;
      log.close();
      tmp.remove();
    });

    it('keeps retrying with a growing wait, reports the refusal, and delivers once the password is fixed', async () => {
      const file = tmp.file('passwd');
      writeFileSync(file, '');
      passwd(file, 'gateway', 'right-password');
      passwd(file, 'platform', 'platform-password');
      broker = await startMosquitto({ passwordFile: file });
      receiver = await createReceiver({
        url: broker.url,
        gatewayId,
        client: { username: 'platform', password: 'platform-password' },
      });
      const logger = createLogger(
        { level: 'info' },
        new Writable({
          write(chunk: Buffer, _enc, done) {
            for (const l of chunk.toString().split('\n').filter(Boolean))
              lines.push(JSON.parse(l) as (typeof lines)[number]);
            done();
          },
        }),
      );
      publisher = new MqttPublisher(
        log,
        {
          url: broker.url,
          gatewayId,
          username: 'gateway',
          password: 'the-old-password',
          reconnectPeriodMs: 100,
          reconnectMaxMs: 800,
          healthIntervalMs: 1000,
        },
        { logger },
      );
      publisher.start();
      log.append(syntheticBatch(0, 200));

      // Refused again and again, never given up; the waits double up to reconnectMaxMs.
      const fourth = await refusals(publisher, 4);
      expect(fourth.reason).toMatch(/not authori[sz]ed/i);
      expect(publisher.status()).toMatchObject({ connected: false, refusedLogins: 4, ackedThrough: 0 });
      const refusedLines = lines.filter((l) => /refused the login/.test(l.msg));
      expect(refusedLines.length).toBeGreaterThanOrEqual(4);
      expect(refusedLines.every((l) => l.level === 50)).toBe(true); // pino's error level
      expect(refusedLines.slice(0, 4).map((l) => l.retryInMs)).toEqual([100, 200, 400, 800]);

      // The operator gives the gateway's password to the broker; mosquitto re-reads it on SIGHUP.
      passwd(file, 'gateway', 'the-old-password');
      broker.reload();
      await ackedThrough(publisher, 200, 20_000);

      // The platform learns from the retained state and health why it heard nothing.
      const s = await receiver.waitFor(
        (x) => x.state?.state === 'online' && x.health !== undefined && x.records === 200,
        15_000,
      );
      expect(s.state).toMatchObject({
        state: 'online',
        lastRefusal: { reason: expect.stringMatching(/authori/) },
      });
      expect(s.health!.counters.refusedLogins).toBeGreaterThanOrEqual(4);
      expect(s.health!.uplink.lastRefusal).toMatchObject({ reason: expect.stringMatching(/authori/) });
      log.append(syntheticBatch(200, 10));
      await ackedThrough(publisher, 210);
      const all = await receiver.waitFor((x) => x.maxSeq >= 210);
      expect(all).toMatchObject({ holes: [], invalid: 0, records: 210 });
    });
  },
);
