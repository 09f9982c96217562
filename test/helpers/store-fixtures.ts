/** Temporary log files and synthetic readings for the store and uplink tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isLantianError } from '../../gateway/src/core/errors.js';
import type { Flag } from '../../gateway/src/core/flags.js';
import type { Quality, ReadingDraft } from '../../gateway/src/core/reading.js';
import { encodeQuality, encodeRaw, type AggregateDraft } from '../../gateway/src/store/records.js';

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
/** The reasons a flag other than N carries, as the gateway gives them. */
const QUALITY: Partial<Record<Flag, Quality[]>> = {
  C: ['device_status'],
  M: ['device_status'],
  T: ['out_of_range'],
};

/**
 * Readings as the acquisition engine would hand them over: one batch per poll, a few devices
 * with a few points each, a value that follows the index so tests can check it came back, the
 * register words it came from (`raw`) and, where the flag is not N, its reasons (`quality`):
 * evidence that must reach the platform unchanged.
 */
export function syntheticBatch(start: number, count: number, ts0 = Date.UTC(2026, 0, 1)): ReadingDraft[] {
  const out: ReadingDraft[] = [];
  for (let i = start; i < start + count; i++) {
    const flag = FLAGS[i % FLAGS.length]!;
    const quality = QUALITY[flag];
    out.push({
      ts: ts0 + i * 100,
      device: DEVICES[i % DEVICES.length]!,
      point: POINTS[i % POINTS.length]!,
      value: i / 10,
      flag,
      ...(quality ? { quality } : {}),
      raw: [(i >>> 16) & 0xffff, i & 0xffff],
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

/** The LantianError code `fn` throws, undefined when it does not throw. */
export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isLantianError(e) ? e.code : `not a LantianError: ${String(e)}`;
  }
  return undefined;
}

/**
 * Reading `seq` of syntheticBatch(0, n) as the log's tables hold it (joined with its point):
 * the register words and reasons encoded as the log stores them.
 */
export function storedReading(seq: number) {
  const { ts, device, point, value, flag, quality, raw } = syntheticBatch(seq - 1, 1)[0]!;
  return { seq, ts, device, point, value, flag, quality: encodeQuality(quality), raw: encodeRaw(raw) };
}
