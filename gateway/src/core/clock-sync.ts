/**
 * Whether the system clock is synchronised. systemd-timesyncd creates
 * /run/systemd/timesync/synchronized once it has synchronised the clock and removes it at boot
 * (systemd-timesyncd.service(8)); its absence means the readings' times are not traceable to a
 * time source. Checked at most every `everyMs` so a busy poller does not stat a file per batch.
 */
import { existsSync } from 'node:fs';
import type { Clock } from './clock.js';

export const TIMESYNCD_FLAG_FILE = '/run/systemd/timesync/synchronized';

export type ClockSyncSource = 'timesyncd' | 'none';

/** A probe for the data-quality checks: true/false, or undefined when the source is `none`. */
export function clockSyncProbe(
  source: ClockSyncSource,
  clock: Clock,
  file = TIMESYNCD_FLAG_FILE,
  everyMs = 10_000,
): () => boolean | undefined {
  if (source === 'none') return () => undefined;
  let checkedAt = -Infinity;
  let synced = false;
  return () => {
    const t = clock.monotonic();
    if (t - checkedAt >= everyMs) {
      checkedAt = t;
      synced = existsSync(file);
    }
    return synced;
  };
}
