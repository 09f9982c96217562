import { describe, expect, it } from 'vitest';
import { openLog } from '../../../gateway/src/store/index.js';
import { lastNumber, childFixture, storeAppender } from '../../helpers/store-child.js';
import { syntheticBatch } from '../../helpers/store-fixtures.js';

const fixture = childFixture();

describe('the log under kill -9', () => {
  it('keeps every committed reading, intact and in order, across repeated SIGKILLs', async () => {
    const path = fixture.tmp().file('log.db');
    let committed = 0;
    for (let round = 0; round < 4; round++) {
      // Alternate the durability setting: the file must stay consistent under both.
      const child = fixture.start(storeAppender, [path, round % 2 === 0 ? 'normal' : 'full']);
      const ready = Number((await child.waitForLine(/^ready (\d+)/))[1]);
      // Nothing committed before the previous kill may be missing at the restart.
      expect(ready).toBeGreaterThanOrEqual(committed);
      // Let it commit a while, then kill it at a random point of its loop.
      await child.waitForLine(
        new RegExp(`^committed ${ready + 50 * (20 + Math.floor(Math.random() * 40))}$`),
      );
      await child.kill();
      committed = lastNumber(child.lines, 'committed');
    }
    const log = openLog({ path });
    try {
      expect(log.lastSeq).toBeGreaterThanOrEqual(committed);
      const records = log.read(0, log.lastSeq + 1);
      expect(records).toHaveLength(log.lastSeq);
      const expected = syntheticBatch(0, log.lastSeq);
      records.forEach((r, i) => {
        expect(r.seq).toBe(i + 1);
        expect(r).toMatchObject(expected[i]!);
      });
    } finally {
      log.close();
    }
  }, 90_000); // four child processes through tsx: slow on a loaded machine
});
