import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isLantianError } from '../../../gateway/src/core/errors.js';
import { openLog } from '../../../gateway/src/store/index.js';
import { recoverLog } from '../../../gateway/src/store/recover.js';
import { syntheticBatch, tempDir, type TempDir } from '../../helpers/store-fixtures.js';

let tmp: TempDir;
let path: string;
beforeEach(() => {
  tmp = tempDir();
  path = tmp.file('log.db');
});
afterEach(() => tmp.remove());

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return isLantianError(e) ? e.code : String(e);
  }
  return 'no refusal';
}

describe('recovering a log', () => {
  it('refuses while a gateway has the log open, and moves nothing', () => {
    const log = openLog({ path });
    try {
      log.append(syntheticBatch(0, 10));
      const files = readdirSync(tmp.dir).sort();
      expect(refusal(() => recoverLog(path))).toBe('STORE_RECOVER_FAILED');
      expect(readdirSync(tmp.dir).sort()).toEqual(files);
      expect(log.append(syntheticBatch(10, 1)).first).toBe(11);
    } finally {
      log.close();
    }
  });

  it('refuses to guess when neither the mark nor the file says how far the seqs went', () => {
    writeFileSync(path, 'not a database at all\n'.repeat(500));
    expect(refusal(() => recoverLog(path))).toBe('STORE_RECOVER_FAILED');
    expect(readdirSync(tmp.dir)).toEqual(['log.db']);
    const report = recoverLog(path, { issuedAtLeast: 500 });
    expect(report.firstSeq).toBe(501);
    expect(report.unreadable).toBeDefined();
    expect(existsSync(report.moved[0]![1])).toBe(true);
    const log = openLog({ path });
    try {
      expect(log.lastSeq).toBe(report.eventSeq);
      expect(log.read(0, 10).map((r) => r.seq)).toEqual([501]);
    } finally {
      log.close();
    }
  });
});
