/**
 * Health counters per device and per bus, and the snapshots the MQTT health topic and the CLI
 * show. Counters only ever grow; percentiles come from a window of recent samples.
 */
import { isLantianError } from '../core/errors.js';
import type { PlanStrategy } from './planner.js';

/**
 * Recent samples (default the last 512) for percentiles; memory stays bounded. Kept as float32 in
 * a typed array outside V8's heap (about 7 significant digits: a sample of a minute is kept to
 * 4 µs, inside the 0.01 ms the percentiles are rounded to; one of an hour to 0.25 ms), so a full
 * window is 2 KB rather than the 4 KB and more of a JavaScript array of doubles, and the garbage
 * collector never walks it. The array grows by doubling while the window fills, then the oldest
 * sample is overwritten.
 */
export class SampleWindow {
  private samples = new Float32Array(0);
  private filled = 0;
  /** Once full: where the next sample goes, the oldest one. */
  private next = 0;

  constructor(private readonly size = 512) {
    if (!Number.isInteger(size) || size < 1)
      throw new RangeError(`SampleWindow size must be a positive integer, got ${size}`);
  }

  add(v: number): void {
    if (this.filled < this.size) {
      if (this.filled === this.samples.length) {
        const grown = new Float32Array(Math.min(this.size, Math.max(16, 2 * this.filled)));
        grown.set(this.samples);
        this.samples = grown;
      }
      this.samples[this.filled++] = v;
      return;
    }
    this.samples[this.next] = v;
    this.next = (this.next + 1) % this.size;
  }

  get count(): number {
    return this.filled;
  }

  /** Bytes the samples take (the typed array's length, what the window has grown to). */
  get bytes(): number {
    return this.samples.byteLength;
  }

  /** Nearest-rank percentiles, rounded to 0.01; undefined while empty. */
  percentiles(): Percentiles | undefined {
    if (this.filled === 0) return undefined;
    // A typed array sorts numerically in native code: health of a thousand devices stays cheap.
    const s = this.samples.slice(0, this.filled).sort();
    const at = (q: number): number => round2(s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!);
    return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: round2(s[s.length - 1]!) };
  }
}

export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

const round2 = (v: number): number => Math.round(v * 100) / 100;

/** Transaction counters, kept for each device and for each bus. */
export interface TransactionCounters {
  /** Requests sent, retries included. */
  requests: number;
  /** Good replies. */
  replies: number;
  timeouts: number;
  crcErrors: number;
  /** Malformed replies: wrong length, unit id or function. */
  badReplies: number;
  /** Modbus exception replies. */
  exceptions: number;
  /**
   * Replies that came after their request had timed out, recognised and discarded (never taken
   * as the answer to a later request). The request itself counts as a timeout.
   */
  lateReplies: number;
  /** Requests that could not be sent or were cut off because the link was down. */
  linkErrors: number;
  retries: number;
  /** Wall-clock time of the last good reply, UTC ms. */
  lastGoodReplyTs?: number;
  lastErrorCode?: string;
}

export const emptyCounters = (): TransactionCounters => ({
  requests: 0,
  replies: 0,
  timeouts: 0,
  crcErrors: 0,
  badReplies: 0,
  exceptions: 0,
  lateReplies: 0,
  linkErrors: 0,
  retries: 0,
});

const COUNTER_OF: Record<string, 'timeouts' | 'crcErrors' | 'badReplies' | 'exceptions'> = {
  TRANSPORT_TIMEOUT: 'timeouts',
  MODBUS_CRC: 'crcErrors',
  MODBUS_BAD_REPLY: 'badReplies',
  MODBUS_EXCEPTION: 'exceptions',
};

/** Counts one failed request under its kind; anything else is the link's failure. */
export function countError(c: TransactionCounters, e: unknown): void {
  const code = isLantianError(e) ? e.code : 'UNKNOWN';
  c.lastErrorCode = code;
  c[COUNTER_OF[code] ?? 'linkErrors']++;
}

export interface LatencySnapshot {
  /** Request to reply, ms, over recent good replies. */
  latencyMs?: Percentiles;
}

/** `failing`: the last poll got no answer (device silent or link down); `backoff`: not polled for now. */
export type DeviceState = 'ok' | 'failing' | 'backoff' | 'unknown';

export interface DeviceHealth extends TransactionCounters, LatencySnapshot {
  device: string;
  bus: string;
  unitId: number;
  state: DeviceState;
  /** Poll cycles run, and how many of them failed entirely. */
  polls: number;
  failedPolls: number;
  /** Periods not polled because the device was backed off (its readings were flagged B). */
  skippedPolls: number;
  /** Periods merged into a later poll because the bus could not keep up. */
  overruns: number;
  consecutiveFailures: number;
  /** While backed off: when the device is probed again, UTC ms. */
  nextProbeTs?: number;
  /** Start of a poll minus its due time, ms, over recent polls. */
  lagMs?: Percentiles;
  /** Interval between poll starts minus the period, ms (positive: late), over recent polls. */
  jitterMs?: Percentiles;
  /** Times the reading sink threw; the readings of that poll were lost to it. */
  sinkErrors: number;
  /** Requests one poll needs with the current plan. */
  plannedReads: number;
  /** The planner strategy in use: `contiguous` once the device refused a gap-filled read. */
  planStrategy: PlanStrategy;
}

export interface BusHealth extends TransactionCounters, LatencySnapshot {
  bus: string;
  link: string;
  connected: boolean;
  connects: number;
  connectFailures: number;
  /** Times the link dropped by itself. */
  drops: number;
  /** Times the bus closed and reopened a link after consecutive timeouts. */
  recycles: number;
  /** Time spent in transactions, ms since start, for utilisation. */
  busyMs: number;
  /** Most transactions ever queued at once (bounded by the number of devices). */
  maxQueued: number;
}
