/**
 * Child process for the kill -9 test of the log: appends synthetic readings as fast as it can,
 * one poll-sized batch at a time, and prints `committed <lastSeq>` after each commit returns.
 * Usage: node --import tsx test/helpers/store-appender.ts <log path> [synchronous]
 */
import { openLog } from '../../gateway/src/store/log.js';
import { syntheticBatch } from './store-fixtures.js';

const [path, sync] = process.argv.slice(2);
if (!path) throw new Error('usage: store-appender <log path> [normal|full]');
const log = openLog({ path, synchronous: sync === 'full' ? 'full' : 'normal' });
process.stdout.write(`log ${log.logId}\nready ${log.lastSeq}\n`);

function step(): void {
  // The reading with seq n always carries index n - 1, so the test can check contents.
  const span = log.append(syntheticBatch(log.lastSeq, 50));
  process.stdout.write(`committed ${span.last}\n`);
  setImmediate(step);
}
step();
