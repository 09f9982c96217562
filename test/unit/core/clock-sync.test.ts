/**
 * The clock-sync probe against a real flag file: present means synchronised, and the file is
 * looked at again only once `everyMs` has passed on the monotonic clock.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../gateway/src/core/clock.js';
import { clockSyncProbe, TIMESYNCD_FLAG_FILE } from '../../../gateway/src/core/clock-sync.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function flagFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lantian-clock-sync-'));
  dirs.push(dir);
  return join(dir, 'synchronized');
}

describe('clockSyncProbe', () => {
  it("reads systemd-timesyncd's flag file by default", () => {
    expect(TIMESYNCD_FLAG_FILE).toBe('/run/systemd/timesync/synchronized');
  });

  it('answers undefined for the source none, whatever the file says', () => {
    const file = flagFile();
    writeFileSync(file, '');
    const probe = clockSyncProbe('none', new ManualClock(), file);
    expect(probe()).toBeUndefined();
  });

  it.each([
    ['given', 1000],
    ['by default', 10_000],
  ] as const)(
    'is synchronised while the flag file exists, looked at again every %s interval',
    async (how, everyMs) => {
      const file = flagFile();
      const clock = new ManualClock();
      const probe =
        how === 'given'
          ? clockSyncProbe('timesyncd', clock, file, everyMs)
          : clockSyncProbe('timesyncd', clock, file);
      // The first call looks at once: no file yet.
      expect(probe()).toBe(false);
      writeFileSync(file, '');
      // Within the interval the answer is the one looked up before; at exactly the interval it looks again.
      await clock.advance(everyMs - 1);
      expect(probe()).toBe(false);
      await clock.advance(1);
      expect(probe()).toBe(true);
      rmSync(file);
      await clock.advance(everyMs / 2);
      expect(probe()).toBe(true);
      await clock.advance(everyMs / 2);
      expect(probe()).toBe(false);
    },
  );
});
