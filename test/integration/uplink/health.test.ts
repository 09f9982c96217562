import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openLog, type Log } from '../../../gateway/src/store/index.js';
import { oldestUndeliveredTs } from '../../../gateway/src/uplink/mqtt/health.js';
import { syntheticAggregate, syntheticBatch, tempDir, type TempDir } from '../../helpers/store-fixtures.js';

let tmp: TempDir;
let log: Log;
beforeEach(() => {
  tmp = tempDir();
  log = openLog({ path: tmp.file('log.db') });
});
afterEach(() => {
  log.close();
  tmp.remove();
});

describe('the oldest undelivered record', () => {
  it('skips what the cursor has, including ranges acknowledged ahead of the prefix', () => {
    const ts0 = Date.UTC(2026, 0, 1);
    log.append(syntheticBatch(0, 100, ts0)); // seq n has ts ts0 + (n - 1) * 100
    log.appendAggregates([syntheticAggregate(7)]); // seq 101, start 7 minutes
    const c = log.cursor('mqtt');
    expect(oldestUndeliveredTs(log, c)).toBe(ts0);
    c.markDone(1, 10);
    c.markDone(11, 20);
    c.markDone(31, 60);
    expect(oldestUndeliveredTs(log, c)).toBe(ts0 + 20 * 100);
    c.markDone(21, 30);
    expect(oldestUndeliveredTs(log, c)).toBe(ts0 + 60 * 100);
    c.markDone(61, 100);
    expect(oldestUndeliveredTs(log, c)).toBe(7 * 60_000);
    c.markDone(101, 101);
    expect(oldestUndeliveredTs(log, c)).toBeNull();
  });
});
