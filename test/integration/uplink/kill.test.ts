import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openLog, RangeSet } from '../../../gateway/src/store/index.js';
import { startPlatform, type PlatformWitness } from '../../../hardware-sim/src/platform/index.js';
import { brokerKinds, brokerTitle, type TestBroker } from '../../helpers/broker.js';
import { PRODUCER } from '../../helpers/producer-settings.js';
import { lastNumber, runTs, type Child } from '../../helpers/store-child.js';
import { syntheticBatch, tempDir, type TempDir } from '../../helpers/store-fixtures.js';

const producer = fileURLToPath(new URL('../../helpers/producer-gateway.ts', import.meta.url));

/** Seqs the log had not marked delivered: what a restart will send again. */
function notDone(path: string): RangeSet {
  const log = openLog({ path });
  try {
    const c = log.cursor('mqtt').snapshot();
    const done = new RangeSet(c.ranges);
    return new RangeSet(done.missingIn(c.prefix + 1, log.lastSeq));
  } finally {
    log.close();
  }
}

describe.each(brokerKinds())('gateway killed with SIGKILL during production', (kind) => {
  describe.skipIf(kind.skip !== undefined)(`against ${brokerTitle(kind)}`, () => {
    let broker: TestBroker;
    let tmp: TempDir;
    let receiver: PlatformWitness | undefined;
    const children: Child[] = [];

    beforeEach(async () => {
      broker = await kind.start();
      tmp = tempDir();
    });
    afterEach(async () => {
      for (const c of children.splice(0)) await c.kill();
      await receiver?.close();
      await broker.close();
      tmp.remove();
    });

    it(
      'loses nothing committed; the only duplicates were in flight, identified by seq',
      { timeout: 90_000 },
      async () => {
        const path = tmp.file('log.db');
        receiver = await startPlatform({
          url: broker.url,
          gatewayId: PRODUCER.gatewayId,
          keepReadings: true,
        });
        const resendable = new RangeSet();
        let committed = 0;
        const kills = 4;
        for (let round = 0; round < kills; round++) {
          const child = runTs(producer, [path, broker.url]);
          children.push(child);
          const ready = Number((await child.waitForLine(/^ready (\d+)/))[1]);
          expect(ready).toBeGreaterThanOrEqual(committed);
          // Kill at a random moment: after 15 to 60 polls of production.
          const polls = 15 + Math.floor(Math.random() * 45);
          await child.waitForLine(new RegExp(`^committed ${ready + polls * PRODUCER.perPoll}$`), 30_000);
          await child.kill();
          committed = lastNumber(child.lines, 'committed');
          // The last will tells the platform the gateway vanished.
          await receiver.waitFor((s) => s.state?.state === 'offline', 10_000);
          for (const [a, b] of notDone(path).toArray()) resendable.add(a, b);
        }
        // A last, clean run catches up on everything, then stops producing.
        const stopAt = committed + 200;
        const last = runTs(producer, [path, broker.url, String(stopAt)]);
        children.push(last);
        await last.waitForLine(/^idle /, 30_000);
        const s = await receiver.waitFor((x) => x.maxSeq >= stopAt && x.holes.length === 0, 30_000);

        // Every committed reading arrived, with its content, in order within each lane.
        expect(s.records).toBe(stopAt);
        expect(s).toMatchObject({ holes: [], gaps: [], invalid: 0 });
        // Lane order is the gateway's only behind a broker that keeps it (see TestBroker.keepsOrder).
        if (broker.keepsOrder) expect(s.reorders).toBe(0);
        const expected = syntheticBatch(0, stopAt);
        for (const seq of [1, committed, stopAt])
          expect(receiver.readings.get(seq)).toEqual({ seq, ...expected[seq - 1] });
        // Duplicates only where the log had not recorded a PUBACK when it was killed.
        for (const [a, b] of s.duplicateRanges)
          expect(resendable.countIn(a, b), `dup ${a}..${b}`).toBe(b - a + 1);
        expect(s.duplicates).toBeLessThanOrEqual(kills * PRODUCER.maxInFlight * PRODUCER.batchSize);
      },
    );
  });
});
