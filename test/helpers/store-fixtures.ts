/** Temporary log files and synthetic readings for the store and uplink tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Flag } from '../../gateway/src/core/flags.js';
import type { ReadingDraft } from '../../gateway/src/core/reading.js';
import type { AggregateDraft } from '../../gateway/src/store/records.js';

export interface TempDir {
  dir: string;
  file(name: string): string;
  remove(): void;
}

export function tempDir(prefix = 'lantian-store-'): TempDir {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    file: (name) => join(dir, name),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

const DEVICES = ['stack1', 'stack2', 'dust1'];
const POINTS = ['so2', 'nox', 'o2', 'pm10', 'flow'];
const FLAGS: Flag[] = ['N', 'N', 'N', 'N', 'C', 'M', 'N', 'T'];

/**
 * Readings as the acquisition engine would hand them over: one batch per poll, a few devices
 * with a few points each, a value that follows the index so tests can check it came back.
 */
export function syntheticBatch(start: number, count: number, ts0 = Date.UTC(2026, 0, 1)): ReadingDraft[] {
  const out: ReadingDraft[] = [];
  for (let i = start; i < start + count; i++) {
    out.push({
      ts: ts0 + i * 100,
      device: DEVICES[i % DEVICES.length]!,
      point: POINTS[i % POINTS.length]!,
      value: i / 10,
      flag: FLAGS[i % FLAGS.length]!,
    });
  }
  return out;
}

/** A minute aggregate of `stack1/<point>` whose statistics all equal `i`. */
export function syntheticAggregate(i: number, point = 'so2'): AggregateDraft {
  return {
    device: 'stack1',
    point,
    period: 'minute',
    start: i * 60_000,
    min: i,
    avg: i,
    max: i,
    count: 60,
    flag: 'N',
  };
}
