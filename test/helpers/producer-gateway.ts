/**
 * A small gateway for the SIGKILL tests: opens the log, runs the MQTT publisher and appends
 * synthetic readings at a steady rate, printing `committed <lastSeq>` after every commit.
 * Usage: node --import tsx test/helpers/producer-gateway.ts <log path> <broker url> [stopAt]
 * With stopAt it stops producing at that seq and prints `idle <seq>` once all is acknowledged.
 * With PRODUCER_SIGNING_KEY (a private key file) in the environment it seals its messages.
 */
import { systemClock } from '../../gateway/src/core/clock.js';
import { openLog } from '../../gateway/src/store/log.js';
import { MqttPublisher } from '../../gateway/src/uplink/mqtt/publisher.js';
import { PRODUCER } from './producer-settings.js';
import { syntheticBatch } from './store-fixtures.js';

const [path, url, stopAtArg] = process.argv.slice(2);
if (!path || !url) throw new Error('usage: producer-gateway <log path> <broker url> [stopAt]');
const stopAt = stopAtArg ? Number(stopAtArg) : Infinity;
const log = openLog({ path });
const publisher = new MqttPublisher(log, {
  url,
  clientId: 'gw-kill-uplink',
  gatewayId: PRODUCER.gatewayId,
  batch: { maxReadings: PRODUCER.batchSize, lingerMs: 20 },
  inFlight: PRODUCER.maxInFlight,
  reconnectPeriodMs: 100,
  ...(process.env['PRODUCER_SIGNING_KEY'] ? { signingKey: process.env['PRODUCER_SIGNING_KEY'] } : {}),
});
publisher.on('acked', () => {
  if (log.lastSeq >= stopAt && publisher.status().ackedThrough >= log.lastSeq) {
    process.stdout.write(`idle ${log.lastSeq}\n`);
  }
});
publisher.start();
process.stdout.write(`ready ${log.lastSeq}\n`);

// One poll every pollMs: the loop waits for each append, it never piles up.
while (log.lastSeq < stopAt) {
  const n = Math.min(PRODUCER.perPoll, stopAt - log.lastSeq);
  const span = log.append(syntheticBatch(log.lastSeq, n));
  process.stdout.write(`committed ${span.last}\n`);
  await systemClock.sleep(PRODUCER.pollMs);
}
