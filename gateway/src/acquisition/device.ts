/**
 * One device's side of a poll: which points it reads, the reads the planner chose for them, and
 * how the replies (or failures) of one cycle become readings. A read that failed yields its
 * points flagged B with value null: never skipped, never an old value.
 */
import { LantianError, isLantianError, type ErrorCode } from '../core/errors.js';
import type { Quality, ReadingDraft } from '../core/reading.js';
import type { Profile, ResolvedPoint } from '../profiles/schema.js';
import { decodePoint } from './decode.js';
import { planReads, type PlannedRead, type PlanOptions, type RequestCost } from './planner.js';
import { applyFlags, type PointOutcome } from './status.js';

/**
 * The points polled periodically: the given keys, or every measurement and status point; plus
 * every status source a mapping needs, so flags can always be derived.
 */
export function polledPoints(profile: Profile, keys?: readonly string[]): ResolvedPoint[] {
  const byKey = new Map(profile.points.map((p) => [p.key, p]));
  const wanted = new Set(
    keys ?? profile.points.filter((p) => p.role === 'measurement' || p.role === 'status').map((p) => p.key),
  );
  for (const k of wanted) {
    if (!byKey.has(k)) {
      throw new LantianError('ACQ_OPTIONS_INVALID', `profile ${profile.id} has no point "${k}"`, {
        context: { profile: profile.id, point: k, file: profile.file },
      });
    }
  }
  for (const m of profile.status) wanted.add(m.source);
  return profile.points.filter((p) => wanted.has(p.key));
}

export function planDevice(
  profile: Profile,
  points: readonly ResolvedPoint[],
  cost: RequestCost,
  options: PlanOptions = {},
): PlannedRead[] {
  return planReads(
    points,
    {
      maxReadRegisters: profile.quirks.maxReadRegisters,
      maxReadBits: profile.quirks.maxReadBits,
      unreadable: profile.unreadable,
    },
    cost,
    options,
  );
}

/** What one planned read gave in this cycle. */
export type ReadResult =
  { ok: true; data: readonly number[]; ts: number } | { ok: false; error: LantianError; ts: number };

const QUALITY_OF: Partial<Record<ErrorCode, Quality>> = {
  TRANSPORT_TIMEOUT: 'timeout',
  TRANSPORT_CLOSED: 'link_down',
  TRANSPORT_CONNECT_FAILED: 'link_down',
  MODBUS_CRC: 'crc_error',
  MODBUS_BAD_REPLY: 'bad_reply',
  MODBUS_EXCEPTION: 'exception',
  // Not polled this period because the device stopped answering: the reason is the back-off.
  ACQ_DEVICE_BACKOFF: 'backoff',
  // The slot passed while the previous poll still ran (timeouts and retries): not polled in it.
  ACQ_OVERRUN: 'overrun',
};

export function qualityOf(error: unknown): Quality {
  return (isLantianError(error) && QUALITY_OF[error.code]) || 'timeout';
}

/** Each device's point list keyed by point, made once: a poll only looks it up. */
const BY_KEY = new WeakMap<readonly ResolvedPoint[], ReadonlyMap<string, ResolvedPoint>>();

function pointsByKey(points: readonly ResolvedPoint[]): ReadonlyMap<string, ResolvedPoint> {
  let byKey = BY_KEY.get(points);
  if (!byKey) BY_KEY.set(points, (byKey = new Map(points.map((p) => [p.key, p]))));
  return byKey;
}

/**
 * Decodes a cycle: each point from the slice of its read's reply; failed reads give B/null;
 * a value the device sent but that cannot be decoded (NaN, bad BCD) gives D/null with the raw
 * words kept. Range and status flags are applied last.
 */
export function cycleOutcomes(
  profile: Profile,
  points: readonly ResolvedPoint[],
  reads: readonly PlannedRead[],
  results: readonly ReadResult[],
): Map<string, PointOutcome> {
  const byKey = pointsByKey(points);
  const outcomes = new Map<string, PointOutcome>();
  reads.forEach((read, i) => {
    const result = results[i];
    for (const key of read.keys) {
      const point = byKey.get(key);
      if (!point) continue;
      if (!result || !result.ok) {
        const quality = qualityOf(result?.error);
        outcomes.set(key, { key, value: null, flag: 'B', quality: [quality], ts: result?.ts ?? 0 });
        continue;
      }
      const from = point.pdu - read.address;
      const raw = result.data.slice(from, from + point.count);
      try {
        outcomes.set(key, {
          key,
          value: decodePoint(point, raw),
          flag: 'N',
          quality: [],
          raw,
          ts: result.ts,
        });
      } catch (e) {
        if (!isLantianError(e, 'ACQ_DECODE')) throw e;
        outcomes.set(key, { key, value: null, flag: 'D', quality: ['decode_error'], raw, ts: result.ts });
      }
    }
  });
  applyFlags(points, profile.status, outcomes);
  return outcomes;
}

/**
 * The readings of a cycle's outcomes. They take the outcomes' quality and raw arrays as they are:
 * `cycleOutcomes` made them for this cycle alone, so nothing else holds them.
 */
export function toDrafts(device: string, outcomes: Map<string, PointOutcome>): ReadingDraft[] {
  const drafts: ReadingDraft[] = [];
  for (const o of outcomes.values()) {
    const d: ReadingDraft = { ts: o.ts, device, point: o.key, value: o.value, flag: o.flag };
    if (o.quality.length > 0) d.quality = o.quality;
    if (o.raw) d.raw = o.raw;
    drafts.push(d);
  }
  return drafts;
}
