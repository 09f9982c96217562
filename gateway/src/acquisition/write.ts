/**
 * Writing a value to a device point: encoded as its profile declares (encode.ts), sent through
 * the device's bus like any read (one transaction at a time, between polls, with the device's
 * minimum gap and timeout), then read back and decoded, so the caller learns what the device
 * holds, not what was sent. The value before the write is read first, for the record.
 */
import { LantianError } from '../core/errors.js';
import type { Profile, ResolvedPoint } from '../profiles/schema.js';
import type { Bus, Transaction } from './bus.js';
import { decodePoint, type Value } from './decode.js';
import { encodePoint } from './encode.js';
import type { Frame, ReadFrame, WriteFrame } from './transport/types.js';

/** A device as writes see it: its bus, address and profile. */
export interface WriteTarget {
  device: string;
  bus: Bus;
  unitId: number;
  profile: Profile;
  timeoutMs: number;
}

export interface WriteOutcome {
  device: string;
  point: string;
  /** The value read before the write; null for a write-only point. */
  before: Value | null;
  value: number;
  /** The value read back after the write; null for a write-only point. */
  readBack: Value | null;
  /** What was written: registers, or the coil state. */
  words: number[];
}

function transaction(
  t: WriteTarget,
  frame: Omit<ReadFrame, 'unitId'> | Omit<WriteFrame, 'unitId'>,
): Transaction {
  const full: Frame = { ...frame, unitId: t.unitId };
  return {
    device: t.device,
    frame: full,
    timeoutMs: t.timeoutMs,
    // A repeated write of the same value does no harm; the read-back says what holds.
    retries: 1,
    minGapMs: t.profile.quirks.minGapMs,
  };
}

async function readPoint(t: WriteTarget, point: ResolvedPoint): Promise<{ words: number[]; value: Value }> {
  const words = await t.bus.execute(
    transaction(t, { function: point.function, address: point.pdu, count: point.count }),
  );
  return { words, value: decodePoint(point, words) };
}

/**
 * Writes `value` to `point` (its key). The caller has checked that the point exists and is
 * writable; throws ACQ_WRITE_RANGE / ACQ_WRITE_UNSUPPORTED before anything is sent,
 * ACQ_WRITE_MISMATCH when the device reads back other words, and the bus's errors
 * (MODBUS_EXCEPTION, TRANSPORT_TIMEOUT, ...) as they come.
 */
export async function writePoint(t: WriteTarget, point: ResolvedPoint, value: number): Promise<WriteOutcome> {
  const words = encodePoint(point, value);
  const readable = point.access === 'rw';
  const before = readable ? (await readPoint(t, point)).value : null;
  const fn = point.function === 1 ? 5 : point.count === 1 ? 6 : 16;
  await t.bus.execute(
    transaction(t, { function: fn, address: point.pdu, count: words.length, values: words }),
  );
  let readBack: Value | null = null;
  if (readable) {
    const back = await readPoint(t, point);
    if (back.words.some((w, i) => w !== words[i])) {
      throw new LantianError(
        'ACQ_WRITE_MISMATCH',
        `${t.device}.${point.key}: wrote ${value}, the device reads back ${back.value}`,
        { context: { device: t.device, point: point.key, written: words, readBack: back.words } },
      );
    }
    readBack = back.value;
  }
  return { device: t.device, point: point.key, before, value, readBack, words };
}
