/**
 * The log against its high-water mark at open, in-process (lost-wal.test.ts does it after a
 * SIGKILL): each way the file can be behind the mark or foreign to it starts a new epoch above
 * every seq the mark reserved, done in every cursor, announced by one event.
 */
import { copyFileSync, rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../gateway/src/core/clock.js';
import { openLog, type Log, type LogRecord } from '../../../gateway/src/store/index.js';
import { markPath, readMark } from '../../../gateway/src/store/mark.js';
import { syntheticBatch, tempDir } from '../../helpers/store-fixtures.js';
import { useTempLog } from '../../helpers/temp-log.js';

const { open, path } = useTempLog();
const NOW = Date.UTC(2026, 5, 1);

const eventsOf = (log: Log) =>
  log.read(0, log.lastSeq + 1).filter((r): r is Extract<LogRecord, { type: 'event' }> => r.type === 'event');

/** Puts `from` in place of the log file, without the WAL or index of what was there. */
function restore(from: string): void {
  rmSync(`${path()}-wal`, { force: true });
  rmSync(`${path()}-shm`, { force: true });
  copyFileSync(from, path());
}

describe('a log behind its mark', () => {
  it('skips every seq the mark reserved when an older copy is put back, and marks them done', () => {
    const first = open();
    first.append(syntheticBatch(0, 10));
    first.cursor('mqtt').markDone(1, 5);
    const oldId = first.logId;
    first.close();
    const backup = `${path()}.backup`;
    copyFileSync(path(), backup);
    const more = open();
    more.append(syntheticBatch(10, 10));
    more.close();
    const { reserved, boot } = readMark(path())!;
    restore(backup);

    const log = open({ clock: new ManualClock(NOW) });
    expect(log.logId).not.toBe(oldId);
    expect(log.boot).toBe(boot + 1);
    const [rewound, ...others] = eventsOf(log);
    expect(others).toEqual([]);
    expect(rewound).toMatchObject({ seq: reserved + 1, ts: NOW, kind: 'log_rewound' });
    expect(rewound!.payload).toEqual({
      from: 11,
      to: reserved,
      count: reserved - 10,
      issuedThrough: 20,
      previousLogId: oldId,
      reason: 'behind_mark',
      logId: log.logId,
      boot: log.boot,
    });
    // The skipped seqs will never come: the cursor counts them done; what it had stays done.
    const c = log.cursor('mqtt');
    expect([c.isDone(5), c.isDone(6), c.isDone(10), c.isDone(11), c.isDone(reserved)]).toEqual([
      true,
      false,
      false,
      true,
      true,
    ]);
    expect(log.stats().gapEvents).toBe(1);
    expect(log.append(syntheticBatch(0, 1)).first).toBe(reserved + 2);
    expect(readMark(path())!.logId).toBe(log.logId);
  });

  it('starts a new epoch for a copy with the same seqs from an older boot', () => {
    open().close();
    const backup = `${path()}.backup`;
    copyFileSync(path(), backup);
    const later = open();
    const oldId = later.logId;
    later.close();
    restore(backup);
    const log = open();
    const [rewound] = eventsOf(log);
    expect(rewound?.payload).toMatchObject({
      from: 1,
      issuedThrough: 0,
      reason: 'older_boot',
      previousLogId: oldId,
    });
  });

  it('opens as a plain restart when the file and the mark agree', () => {
    const first = open();
    first.append(syntheticBatch(0, 10));
    const id = first.logId;
    first.close();
    const again = open();
    expect(again.logId).toBe(id);
    expect(eventsOf(again)).toEqual([]);
    expect(again.stats().gapEvents).toBe(0);
  });
});

describe('a log beside a mark that is not its own', () => {
  it('says a new file replaced the log the mark belonged to, and starts above its reserve', () => {
    const old = open();
    old.append(syntheticBatch(0, 10));
    const oldId = old.logId;
    old.close();
    const { reserved } = readMark(path())!;
    rmSync(path());
    rmSync(`${path()}-wal`, { force: true });

    const log = open({ clock: new ManualClock(NOW) });
    const [replaced, ...others] = eventsOf(log);
    expect(others).toEqual([]);
    expect(replaced).toMatchObject({ seq: reserved + 1, ts: NOW, kind: 'log_replaced' });
    // A new file keeps the id it was made with: only the records it would repeat change epoch.
    expect(replaced!.payload).toEqual({
      previousLogId: oldId,
      previousReserved: reserved,
      firstSeq: reserved + 1,
      logId: log.logId,
      boot: log.boot,
    });
    expect(log.logId).not.toBe(oldId);
  });

  it('continues above both when it finds the mark of another log', () => {
    const other = tempDir();
    try {
      const elsewhere = openLog({ path: other.file('log.db') });
      elsewhere.append(syntheticBatch(0, 50));
      const otherId = elsewhere.logId;
      elsewhere.close();
      const mine = open();
      mine.append(syntheticBatch(0, 3));
      const myId = mine.logId;
      mine.close();
      copyFileSync(markPath(other.file('log.db')), markPath(path()));
      const { reserved } = readMark(path())!;

      const log = open();
      const [rewound] = eventsOf(log);
      expect(rewound?.payload).toMatchObject({
        from: 4,
        to: reserved,
        issuedThrough: 50,
        previousLogId: myId,
        reason: 'mark_of_another_log',
      });
      expect(log.logId).not.toBe(myId);
      expect(log.logId).not.toBe(otherId);
    } finally {
      other.remove();
    }
  });
});
