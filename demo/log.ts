/**
 * The gateway's log, opened by the demo once the gateway has exited: only to tell readings the
 * gateway logged and did not get to send (they go out on its next start) from readings lost.
 */
import { openLog } from '../gateway/src/store/index.js';
import type { PlatformStats } from '../hardware-sim/src/platform/index.js';
import type { Delivered } from './books.js';

export interface LogContents {
  logId: string;
  lastSeq: number;
  readings: (Delivered & { seq: number })[];
}

export function readLog(path: string): LogContents {
  const log = openLog({ path, integrityCheck: 'none' });
  try {
    const readings: LogContents['readings'] = [];
    for (let after = 0; ;) {
      const batch = log.read(after, 10_000);
      if (batch.length === 0) break;
      for (const r of batch) if (r.type === 'reading') readings.push(r);
      after = batch.at(-1)!.seq;
    }
    return { logId: log.logId, lastSeq: log.lastSeq, readings };
  } finally {
    log.close();
  }
}

/** The logged readings the platform has not received (by seq, in the log's epoch). */
export function undelivered(log: LogContents, s: PlatformStats): LogContents['readings'] {
  const epoch = s.epochs.find((e) => e.logId === log.logId) ?? s;
  const inHole = (seq: number) => epoch.holes.some(([a, b]) => seq >= a && seq <= b);
  return log.readings.filter((r) => r.seq > epoch.maxSeq || inHole(r.seq));
}
