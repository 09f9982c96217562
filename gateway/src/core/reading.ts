import type { Flag } from './flags.js';

/** Reasons behind a flag, kept next to it so the platform can see why a value is not N. */
export type Quality =
  | 'stale'
  | 'flat_line'
  | 'spike'
  | 'clipped_below_limit'
  | 'clock_unsynchronised'
  | 'out_of_range'
  | 'timeout'
  | 'link_down'
  | 'crc_error'
  | 'bad_reply'
  | 'exception'
  | 'backoff'
  | 'overrun'
  | 'decode_error'
  | 'device_status';

/** `device/point`: device ids come from the site config, point keys from the device profile. */
export type PointRef = `${string}/${string}`;

export function pointRef(device: string, point: string): PointRef {
  return `${device}/${point}`;
}

export function parsePointRef(ref: string): { device: string; point: string } | undefined {
  const i = ref.indexOf('/');
  if (i <= 0 || i === ref.length - 1) return undefined;
  return { device: ref.slice(0, i), point: ref.slice(i + 1) };
}

/**
 * Due slots of a device that passed unpolled because the bus could not keep up (overrun): each
 * is one B sample with quality `overrun`. They ride on the next reading of each point instead of
 * being records of their own, so an overloaded gateway spends its capacity on values.
 */
export interface MissedSlots {
  /** How many slots (>= 1). */
  slots: number;
  /** Due time of the first, UTC milliseconds; the others follow `periodMs` apart. */
  from: number;
  /** The poll period they were due on, ms. */
  periodMs: number;
}

/**
 * `prev` when it holds exactly these slots, else new ones: the readings of one poll carry the same
 * slots, and whoever rebuilds them (the thread crossing, a read of the recent rows) makes one
 * object for the poll.
 */
export function sameOrNewMissed(
  prev: MissedSlots | null | undefined,
  slots: number,
  from: number,
  periodMs: number,
): MissedSlots {
  return prev && prev.slots === slots && prev.from === from && prev.periodMs === periodMs
    ? prev
    : { slots, from, periodMs };
}

/** Wall-clock due times of missed slots, oldest first. */
export function missedTimes(m: MissedSlots): number[] {
  const out = new Array<number>(m.slots);
  for (let i = 0; i < m.slots; i++) out[i] = m.from + i * m.periodMs;
  return out;
}

/** A reading before the log gives it a sequence number. */
export interface ReadingDraft {
  /** Acquisition time, UTC milliseconds. */
  ts: number;
  device: string;
  point: string;
  /** Value in the point's unit, or null when it could not be read. Never an old value. */
  value: number | string | null;
  flag: Flag;
  quality?: Quality[];
  /** Register words exactly as received, kept as evidence. */
  raw?: number[];
  /** Slots of this point's device that overran just before this reading's poll. */
  missed?: MissedSlots;
}

/** A reading once appended to the log: `seq` is gateway-wide and never repeats. */
export interface Reading extends ReadingDraft {
  seq: number;
}
