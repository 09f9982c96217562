/**
 * `peekLog` (check-config --plan's look at a log): what it reads from the file as the log wrote
 * it, without writing anything, and the coded refusals.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LantianError } from '../../../gateway/src/core/errors.js';
import { openLog } from '../../../gateway/src/store/index.js';
import { peekLog } from '../../../gateway/src/store/peek.js';
import { codeOf, syntheticBatch, tempDir, type TempDir } from '../../helpers/store-fixtures.js';

let tmp: TempDir;
let path: string;
beforeEach(() => {
  tmp = tempDir();
  path = tmp.file('log.db');
});
afterEach(() => tmp.remove());

describe('a look at a log file', () => {
  it('is undefined when there is no file yet', () => {
    expect(peekLog(path)).toBeUndefined();
  });

  it('gives the log id, the last seq and every cursor in uplink order, and changes no byte', () => {
    const log = openLog({ path });
    log.append(syntheticBatch(0, 12));
    log.cursor('mqtt').markDone(1, 5);
    log.cursor('hj212:city').markDone(1, 2);
    log.cursor('hj212:city').markDone(4, 7);
    const id = log.logId;
    log.close();
    const digest = () => createHash('sha256').update(readFileSync(path)).digest('hex');
    const before = digest();
    expect(peekLog(path)).toEqual({
      logId: id,
      lastSeq: 12,
      cursors: [
        { uplink: 'hj212:city', prefix: 2, ranges: [[4, 7]] },
        { uplink: 'mqtt', prefix: 5, ranges: [] },
      ],
    });
    expect(digest()).toBe(before);
  });

  it('gives lastSeq 0 for a new log', () => {
    openLog({ path }).close();
    expect(peekLog(path)).toMatchObject({ lastSeq: 0, cursors: [] });
  });

  it('refuses a SQLite file that is not a log, and a log a gateway has open', () => {
    const other = tmp.file('other.db');
    const db = new Database(other);
    db.exec('CREATE TABLE t (x)');
    db.close();
    expect(codeOf(() => peekLog(other))).toBe('STORE_NOT_A_LOG');
    // The refusal names the file, in its text and its context.
    const refusal = (() => {
      try {
        peekLog(other);
      } catch (e) {
        return e as LantianError;
      }
    })();
    expect(refusal?.message).toBe(`${other}: this SQLite file is not a Lantian log`);
    expect(refusal?.context).toEqual({ file: other });
    const log = openLog({ path });
    try {
      expect(codeOf(() => peekLog(path))).toBe('STORE_LOCKED');
    } finally {
      log.close();
    }
  });
});
