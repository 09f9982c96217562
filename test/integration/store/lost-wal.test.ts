import { copyFileSync, rmSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openLog, type LogRecord } from '../../../gateway/src/store/index.js';
import { lastNumber, childFixture, storeAppender } from '../../helpers/store-child.js';
import { syntheticBatch } from '../../helpers/store-fixtures.js';

const fixture = childFixture();

/** Runs the appender until it has committed `seq`, SIGKILLs it; returns its log id and last commit. */
async function appendAndKill(path: string, seq: number): Promise<{ logId: string; committed: number }> {
  const child = fixture.start(storeAppender, [path]);
  const logId = (await child.waitForLine(/^log (\w+)$/, 60_000))[1]!;
  await child.waitForLine(new RegExp(`^committed ${seq}$`), 60_000);
  await child.kill();
  return { logId, committed: lastNumber(child.lines, 'committed') };
}

const events = (records: LogRecord[]) =>
  records.filter((r): r is Extract<LogRecord, { type: 'event' }> => r.type === 'event');

describe('a log that lost its WAL', () => {
  it('starts a new epoch above every seq it issued and announces the lost range', async () => {
    const path = fixture.tmp().file('log.db');
    const { logId, committed } = await appendAndKill(path, 5000);
    // The last commits live only in the WAL; an operator "cleans up" and deletes it.
    expect(statSync(`${path}-wal`).size).toBeGreaterThan(0);
    rmSync(`${path}-wal`);
    rmSync(`${path}-shm`, { force: true });

    const log = openLog({ path });
    try {
      expect(log.logId).not.toBe(logId);
      expect(log.lastSeq).toBeGreaterThan(committed);
      const [rewound, ...others] = events(log.read(0, log.lastSeq + 1));
      expect(others).toEqual([]);
      expect(rewound).toMatchObject({ seq: log.lastSeq, kind: 'log_rewound' });
      const p = rewound!.payload as Record<string, number | string>;
      expect(p).toMatchObject({ previousLogId: logId, logId: log.logId, reason: 'behind_mark' });
      // The range names every seq the file no longer has, up to and past the last commit.
      expect(p.from).toBeLessThanOrEqual(committed);
      expect(p.to).toBe(log.lastSeq - 1);
      expect(p.issuedThrough).toBeGreaterThanOrEqual(committed);
      expect(p.count).toBe(Number(p.to) - Number(p.from) + 1);
      // What survived is intact, and the next reading gets a seq no one has seen.
      const kept = log.read(0, Number(p.from)).filter((r) => r.type === 'reading');
      expect(kept).toHaveLength(Number(p.from) - 1);
      kept.forEach((r, i) => expect(r).toMatchObject(syntheticBatch(i, 1)[0]!));
      expect(log.append(syntheticBatch(0, 1)).first).toBe(Number(p.to) + 2);
      expect(log.stats().gapEvents).toBe(1);
    } finally {
      log.close();
    }
    // The new epoch is the log's own from now on: a restart is a plain restart.
    const again = openLog({ path });
    try {
      expect(events(again.read(0, again.lastSeq + 1))).toHaveLength(1);
    } finally {
      again.close();
    }
  }, 120_000);

  it('keeps its epoch after a SIGKILL that left the WAL in place', async () => {
    const path = fixture.tmp().file('log.db');
    const { logId, committed } = await appendAndKill(path, 3000);
    const log = openLog({ path });
    try {
      expect(log.logId).toBe(logId);
      expect(log.lastSeq).toBeGreaterThanOrEqual(committed);
      expect(events(log.read(0, log.lastSeq + 1))).toEqual([]);
    } finally {
      log.close();
    }
  }, 120_000);

  it('starts a new epoch when an older copy of the file is put back', () => {
    const path = fixture.tmp().file('log.db');
    const log = openLog({ path });
    log.append(syntheticBatch(0, 100));
    log.close();
    // A copy of the file as it was at seq 100, restored after more was written.
    const backup = fixture.tmp().file('backup.db');
    copyFileSync(path, backup);
    const more = openLog({ path });
    more.append(syntheticBatch(100, 100));
    more.close();
    copyFileSync(backup, path);
    const restored = openLog({ path });
    try {
      expect(restored.lastSeq).toBeGreaterThan(200);
      const [rewound] = events(restored.read(0, restored.lastSeq + 1));
      expect(rewound?.payload).toMatchObject({ from: 101, reason: 'behind_mark' });
    } finally {
      restored.close();
    }
  });
});
