import { existsSync, statSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openLog, type Log } from '../../../gateway/src/store/index.js';
import { syntheticBatch, tempDir, type TempDir } from '../../helpers/store-fixtures.js';

let tmp: TempDir;
let log: Log | undefined;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => {
  log?.close();
  tmp.remove();
});

/** What the log really takes on disk: the file, its WAL, its index and its mark. */
function diskUse(path: string): number {
  let n = 0;
  for (const f of [path, `${path}-wal`, `${path}-shm`, `${path}.mark`])
    if (existsSync(f)) n += statSync(f).size;
  return n;
}

describe('the quota on disk', () => {
  for (const quotaBytes of [1_000_000, 4_000_000]) {
    it(`keeps the file and its WAL together under a quota of ${quotaBytes / 1e6} MB, through bursts`, () => {
      const path = tmp.file('log.db');
      log = openLog({ path, quotaBytes });
      const cursor = log.cursor('mqtt');
      let worst = 0;
      let produced = 0;
      // Bursts of different sizes (a backlog, a replay), half of them delivered as they go.
      for (let round = 0; produced < quotaBytes / 16; round++) {
        const size = [50, 500, 5000][round % 3]!;
        const span = log.append(syntheticBatch(produced, size));
        produced += size;
        if (round % 2 === 0) cursor.markDone(span.first, span.last);
        worst = Math.max(worst, diskUse(path));
        expect(log.stats().bytes).toBeLessThanOrEqual(quotaBytes);
      }
      expect(worst).toBeLessThanOrEqual(quotaBytes);
    });
  }
});
