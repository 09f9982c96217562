/** The high-water mark file beside the log: its fixed record, its reserve blocks, its refusals. */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isLantianError } from '../../../gateway/src/core/errors.js';
import { RESERVE_BLOCK, SeqMark, markPath, readMark } from '../../../gateway/src/store/mark.js';
import { tempDir, type TempDir } from '../../helpers/store-fixtures.js';

let tmp: TempDir;
let log: string;
beforeEach(() => {
  tmp = tempDir();
  log = tmp.file('log.db');
});
afterEach(() => tmp.remove());

const state = { logId: 'abcd', boot: 2, next: 10, reserved: 100 };

describe('the high-water mark', () => {
  it('lives beside the log as <log>.mark', () => {
    expect(markPath('/var/lib/lantian/log.db')).toBe('/var/lib/lantian/log.db.mark');
  });

  it('is absent until a log writes it', () => {
    expect(readMark(log)).toBeUndefined();
  });

  it('is one 160-byte line, rewritten in place, that reads back as written', () => {
    const m = new SeqMark(log, state);
    const text = readFileSync(markPath(log), 'utf8');
    expect(text).toHaveLength(160);
    expect(text.endsWith('\n')).toBe(true);
    expect(JSON.parse(text)).toEqual(state);
    expect(readMark(log)).toEqual(state);
    m.advance(11);
    m.advance(12, true);
    expect(statSync(markPath(log)).size).toBe(160);
    expect(readMark(log)).toEqual({ ...state, next: 12 });
    expect(m.current).toEqual({ ...state, next: 12 });
    m.close();
  });

  it('reserves a whole block above the last seq only when the last seq passes the reserve', () => {
    const m = new SeqMark(log, state);
    m.reserve(100);
    expect(readMark(log)!.reserved).toBe(100);
    m.reserve(101);
    expect(readMark(log)!.reserved).toBe(101 + RESERVE_BLOCK);
    expect(RESERVE_BLOCK).toBe(16_384);
    m.close();
  });

  it('takes a new log id when the log starts a new epoch, and reopens an existing mark', () => {
    const m = new SeqMark(log, state);
    m.adopt('ef01');
    m.close();
    expect(readMark(log)!.logId).toBe('ef01');
    const again = new SeqMark(log, { ...state, boot: 3 });
    expect(readMark(log)).toEqual({ ...state, boot: 3 });
    again.close();
  });

  it('does not share its state with the object it was given', () => {
    const given = { ...state };
    const m = new SeqMark(log, given);
    m.advance(50);
    expect(given.next).toBe(10);
    m.close();
  });

  it('refuses an unreadable mark as STORE_CORRUPT, naming the file', () => {
    const bad = [
      'not json',
      '{}',
      JSON.stringify({ ...state, logId: 7 }),
      JSON.stringify({ ...state, boot: -1 }),
      JSON.stringify({ ...state, next: 1.5 }),
      JSON.stringify({ ...state, reserved: '100' }),
      JSON.stringify({ logId: 'a', boot: 0, next: 1 }),
    ];
    for (const text of bad) {
      writeFileSync(markPath(log), text);
      try {
        readMark(log);
        expect.unreachable(text);
      } catch (e) {
        expect(isLantianError(e, 'STORE_CORRUPT'), text).toBe(true);
        expect((e as { context: unknown }).context).toEqual({ file: markPath(log) });
      }
    }
  });

  it('reads a mark with spaces around it and only the four fields it knows', () => {
    writeFileSync(markPath(log), `  ${JSON.stringify({ ...state, extra: 1 })}   \n`);
    expect(readMark(log)).toEqual(state);
  });
});
