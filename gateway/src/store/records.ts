/**
 * What the log holds, and the checks a record passes before it is written. The log is
 * evidence: it stores what it is given or refuses it, never a silently altered value.
 */
import { isFlag } from '../core/flags.js';
import { LantianError } from '../core/errors.js';
import type { MissedSlots, Quality, Reading, ReadingDraft } from '../core/reading.js';
import type { Aggregate } from '../processing/types.js';

/** Kinds of event the gateway records; `gap` is written by the log itself. */
export type EventKind =
  | 'gap'
  | 'alarm'
  | 'exceedance'
  | 'config_change'
  | 'device_offline'
  | 'device_online'
  | 'tamper'
  | 'clock'
  | (string & {});

export interface EventDraft {
  /** UTC milliseconds. */
  ts: number;
  kind: EventKind;
  /** Any JSON value. */
  payload: unknown;
}

export type AggregatePeriod = Aggregate['period'];

/** A minute, hour or day value as processing makes it (gateway/src/processing/types.ts). */
export type AggregateDraft = Aggregate;

/** The fields of an aggregate kept in its `detail` column (JSON) rather than a column of their own. */
export const AGGREGATE_DETAIL_KEYS = [
  'inputs',
  'required',
  'outlet',
  'hj212',
  'unit',
  'zsMin',
  'zsAvg',
  'zsMax',
  'cou',
  'derivation',
] as const satisfies readonly (keyof Aggregate)[];

/** What asked for a blob: the evidence it belongs with. */
export interface BlobTrigger {
  /** event: an event in the log (`event` is its seq); periodic: the schedule; command: the platform. */
  reason: 'event' | 'periodic' | 'command';
  event?: number;
  /** The kind of that event, e.g. exceedance. */
  eventKind?: string;
  /** The device (and point) the event names. */
  device?: string;
  point?: string;
  /** Seqs of the newest readings of that device (point) in the log when the picture was taken. */
  readings?: number[];
  /** The command's id, for reason command. */
  command?: string;
}

export interface BlobDraft {
  ts: number;
  /** e.g. `snapshot`; becomes the MQTT topic `blob/<kind>`. */
  kind: string;
  contentType: string;
  bytes: Uint8Array;
  /** Where it came from, e.g. the camera id. */
  source?: string;
  trigger?: BlobTrigger;
}

/** A blob's source and trigger as JSON for the `detail` column; null when it has neither. */
export function encodeBlobDetail(b: BlobDraft): string | null {
  if (b.source === undefined && b.trigger === undefined) return null;
  return JSON.stringify({
    ...(b.source === undefined ? {} : { source: b.source }),
    ...(b.trigger === undefined ? {} : { trigger: b.trigger }),
  });
}

export function checkBlob(b: BlobDraft, index: number): void {
  checkTs(b.ts, index);
  if (!/^[A-Za-z0-9_-]+$/.test(b.kind))
    throw invalid('blob kind must be letters, digits, _ or -', index, b.kind);
  if (!isName(b.contentType)) throw invalid('blob contentType must be non-empty', index, b.contentType);
  if (!(b.bytes instanceof Uint8Array)) throw invalid('blob bytes must be bytes', index, typeof b.bytes);
}

/** Why records were evicted before every uplink had them. */
export type GapReason = 'quota';

/** Payload of a `gap` event: records in `from..to` of the named kinds are gone. */
export interface GapPayload {
  from: number;
  to: number;
  /** How many records were evicted (other kinds inside the range were kept). */
  count: number;
  reason: GapReason;
  /** Which record kinds the eviction removed. */
  kinds: RecordType[];
  /** Uplinks that had not delivered (all of) the range. */
  uplinks: string[];
}

export type RecordType = 'reading' | 'event' | 'aggregate' | 'blob';

export type LogRecord =
  | ({ type: 'reading' } & Reading)
  | ({ type: 'event'; seq: number } & EventDraft)
  | ({ type: 'aggregate'; seq: number } & AggregateDraft)
  | ({ type: 'blob'; seq: number } & BlobDraft);

function invalid(what: string, index: number, value: unknown): LantianError {
  return new LantianError('STORE_RECORD_INVALID', `record ${index}: ${what} (got ${JSON.stringify(value)})`, {
    context: { index, value },
  });
}

const isName = (s: unknown): s is string => typeof s === 'string' && s.length > 0;

export function checkTs(ts: unknown, index: number): void {
  if (!Number.isSafeInteger(ts) || (ts as number) < 0)
    throw invalid('ts must be UTC milliseconds', index, ts);
}

export function checkReading(r: ReadingDraft, index: number): void {
  checkTs(r.ts, index);
  if (!isName(r.device) || !isName(r.point)) throw invalid('device and point must be non-empty', index, r);
  const v = r.value;
  if (!(v === null || typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)))) {
    throw invalid('value must be a finite number, a string or null', index, v);
  }
  if (!isFlag(r.flag)) throw invalid('flag must be an HJ 212 flag', index, r.flag);
  if (r.quality !== undefined && !(Array.isArray(r.quality) && r.quality.every(isName))) {
    throw invalid('quality must be a list of reasons', index, r.quality);
  }
  if (r.raw !== undefined) {
    if (!Array.isArray(r.raw) || !r.raw.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffff)) {
      throw invalid('raw must be 16-bit register words', index, r.raw);
    }
  }
  if (r.missed !== undefined) {
    const m = r.missed as Partial<MissedSlots> | null;
    const whole = (n: unknown, min: number) => Number.isSafeInteger(n) && (n as number) >= min;
    if (
      typeof m !== 'object' ||
      m === null ||
      !whole(m.slots, 1) ||
      !whole(m.from, 0) ||
      !whole(m.periodMs, 1)
    )
      throw invalid('missed must give slots (>= 1), from (UTC ms) and periodMs (>= 1)', index, r.missed);
  }
}

export function checkAggregate(a: AggregateDraft, index: number): void {
  checkTs(a.start, index);
  if (!isName(a.device) || !isName(a.point)) throw invalid('device and point must be non-empty', index, a);
  if (!['minute', 'quarter_hour', 'hour', 'day'].includes(a.period))
    throw invalid('bad period', index, a.period);
  for (const v of [a.min, a.avg, a.max]) {
    if (v !== null && !(typeof v === 'number' && Number.isFinite(v)))
      throw invalid('bad statistic', index, v);
  }
  if (!Number.isSafeInteger(a.count) || a.count < 0)
    throw invalid('count must be a whole number', index, a.count);
  if (!isFlag(a.flag)) throw invalid('flag must be an HJ 212 flag', index, a.flag);
}

/** Register words as big-endian 16-bit pairs: two bytes a word instead of a JSON list. */
export function encodeRaw(raw: readonly number[] | undefined): Buffer | null {
  if (raw === undefined) return null;
  const b = Buffer.allocUnsafe(raw.length * 2);
  for (let i = 0; i < raw.length; i++) b.writeUInt16BE(raw[i]!, i * 2);
  return b;
}

export function decodeRaw(b: Buffer): number[] {
  const out = new Array<number>(b.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = b.readUInt16BE(i * 2);
  return out;
}

export function encodeQuality(q: readonly Quality[] | undefined): string | null {
  return q === undefined ? null : q.join(',');
}

export function decodeQuality(s: string): Quality[] {
  return s === '' ? [] : (s.split(',') as Quality[]);
}

/**
 * Missed slots as the `missed` column keeps them: `slots,age,periodMs`, the age being the
 * reading's ts minus the first missed slot's due time. All three are safe integers (checkReading
 * holds ts, from and the rest to that), so the age is exact. Past its capacity nearly every reading
 * of a gateway carries missed slots: about 10 bytes a row where the JSON it replaces took 48 (a
 * reading's row is some 40 bytes without them). Rows written before keep their JSON, which
 * decodeMissed reads as well.
 */
export function encodeMissed(m: MissedSlots, ts: number): string {
  return `${m.slots},${ts - m.from},${m.periodMs}`;
}

/** The short form of missed slots: three whole numbers, the age alone may be negative. */
const MISSED_SHORT = /^(\d+),(-?\d+),(\d+)$/;

/** The missed slots of the reading at `ts` from the `missed` column; STORE_CORRUPT, naming the seq, if unreadable. */
export function decodeMissed(text: string, ts: number, seq: number): MissedSlots {
  let m: MissedSlots | undefined;
  const short = MISSED_SHORT.exec(text);
  if (short) m = { slots: Number(short[1]), from: ts - Number(short[2]), periodMs: Number(short[3]) };
  else if (text.startsWith('{')) m = parseJson(text) as MissedSlots | undefined;
  if (
    m === undefined ||
    !Number.isSafeInteger(m.slots) ||
    m.slots < 1 ||
    !Number.isSafeInteger(m.from) ||
    !Number.isSafeInteger(m.periodMs) ||
    m.periodMs < 1
  )
    throw new LantianError(
      'STORE_CORRUPT',
      `the log's reading ${seq} has unreadable missed slots (${JSON.stringify(text)})`,
      {
        context: { seq, missed: text },
      },
    );
  return m;
}

/** `text` parsed as JSON; undefined when it is not JSON. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The detail fields an aggregate has, as JSON for the `detail` column; null when it has none. */
export function encodeAggregateDetail(a: AggregateDraft): string | null {
  const detail: Record<string, unknown> = {};
  for (const k of AGGREGATE_DETAIL_KEYS) if (a[k] !== undefined) detail[k] = a[k];
  return Object.keys(detail).length === 0 ? null : JSON.stringify(detail);
}
