/**
 * Read planner: the points a device must read in a period -> the cheapest set of read requests.
 *
 * Pure and deterministic. Points of one function code are sorted and grouped into clusters:
 * points that overlap (two bit fields of one status register, say) are read by one request, so
 * they come from one snapshot and no value is torn across two replies. A request reads one
 * contiguous run of clusters, gaps included. A dynamic programme
 * over the sorted clusters picks the runs that minimise the total modelled cost, where a request
 * of n registers costs `requestMs + 2n * byteMs` (bits: `ceil(n/8) * byteMs`). On a serial line
 * that is the wire time of both frames, their silences and the device's turnaround, so a gap of
 * g registers is filled exactly when it is cheaper than a second request:
 * g < requestMs / (2 * byteMs). A request never exceeds the device's largest read and never
 * touches an address the profile marks unreadable.
 */
import { LantianError } from '../core/errors.js';
import { charMs, type LineSettings } from './line.js';

export type FunctionCode = 1 | 2 | 3 | 4;

/** What the planner needs of a point: where it is and how many registers (or bits) it spans. */
export interface PlanPoint {
  key: string;
  function: FunctionCode;
  /** 0-based PDU address of the first register or bit. */
  pdu: number;
  /** Registers (FC03/04) or bits (FC01/02), at least 1. */
  count: number;
}

export interface UnreadableRange {
  function: FunctionCode;
  /** PDU address, inclusive. */
  start: number;
  /** PDU address, inclusive. */
  end: number;
}

export interface PlanLimits {
  /** Largest FC03/04 read, 1–125 registers. */
  maxReadRegisters: number;
  /** Largest FC01/02 read, 1–2000 bits. */
  maxReadBits: number;
  unreadable: readonly UnreadableRange[];
}

/** Modelled cost of one request: `requestMs` per request plus `byteMs` per data byte in the reply. */
export interface RequestCost {
  requestMs: number;
  byteMs: number;
}

export interface PlannedRead {
  function: FunctionCode;
  address: number;
  /** Registers or bits to read. */
  count: number;
  /** Keys of the points this read covers, in address order. */
  keys: string[];
  /** True when the read spans addresses no point needs (a filled gap). */
  gapFilled: boolean;
}

export interface PlanOptions {
  /** Fill gaps between points when cheaper (default true); false merges only touching points. */
  fillGaps?: boolean;
}

/**
 * Cost of requests on an RTU line: request frame (8 chars), reply header and CRC (5 chars) and
 * two t3.5 silences (7 chars) make 20 characters per request, plus the device's turnaround and
 * any minimum gap it asks for; each data byte costs one character.
 */
export function serialCost(line: LineSettings, turnaroundMs: number, minGapMs = 0): RequestCost {
  const c = charMs(line);
  return { requestMs: 20 * c + turnaroundMs + minGapMs, byteMs: c };
}

/**
 * Cost of requests over Modbus TCP: wire time is negligible, each request costs a round trip
 * (`roundTripMs`, default 2 ms) plus the device's turnaround, so merging within the read limit
 * nearly always pays.
 */
export function tcpCost(turnaroundMs: number, roundTripMs = 2, minGapMs = 0): RequestCost {
  return { requestMs: roundTripMs + turnaroundMs + minGapMs, byteMs: 0.0001 };
}

export function dataBytes(fn: FunctionCode, count: number): number {
  return fn === 1 || fn === 2 ? Math.ceil(count / 8) : 2 * count;
}

export function requestCostMs(cost: RequestCost, fn: FunctionCode, count: number): number {
  return cost.requestMs + dataBytes(fn, count) * cost.byteMs;
}

export function planCostMs(cost: RequestCost, reads: readonly PlannedRead[]): number {
  return reads.reduce((sum, r) => sum + requestCostMs(cost, r.function, r.count), 0);
}

interface Cluster {
  start: number;
  end: number;
  keys: string[];
}

/** Points of one function, sorted, grouped where they overlap. */
function clustersOf(points: readonly PlanPoint[]): Cluster[] {
  const sorted = [...points].sort((a, b) => a.pdu - b.pdu || a.count - b.count || cmp(a.key, b.key));
  const out: Cluster[] = [];
  for (const p of sorted) {
    const end = p.pdu + p.count - 1;
    const last = out[out.length - 1];
    if (last && p.pdu <= last.end) {
      last.end = Math.max(last.end, end);
      last.keys.push(p.key);
    } else {
      out.push({ start: p.pdu, end, keys: [p.key] });
    }
  }
  return out;
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function intersectsUnreadable(ranges: readonly UnreadableRange[], start: number, end: number): boolean {
  return ranges.some((r) => r.start <= end && start <= r.end);
}

interface Best {
  cost: number;
  requests: number;
  /** Index of the first cluster of the last request in the best plan ending here. */
  from: number;
}

/** Lower cost wins; on a tie (within float noise) fewer requests; then the earlier split. */
function better(cost: number, requests: number, than: Best | undefined): boolean {
  if (!than) return true;
  const eps = 1e-9 * Math.max(1, Math.abs(than.cost));
  if (cost < than.cost - eps) return true;
  if (cost > than.cost + eps) return false;
  return requests < than.requests;
}

function planFunction(
  fn: FunctionCode,
  points: readonly PlanPoint[],
  limits: PlanLimits,
  cost: RequestCost,
  fillGaps: boolean,
): PlannedRead[] {
  const max = fn === 1 || fn === 2 ? limits.maxReadBits : limits.maxReadRegisters;
  const forbidden = limits.unreadable.filter((r) => r.function === fn);
  const clusters = clustersOf(points);
  for (const c of clusters) {
    const context = { function: fn, start: c.start, end: c.end, points: c.keys };
    if (c.end - c.start + 1 > max) {
      throw new LantianError(
        'ACQ_PLAN',
        `overlapping points ${c.keys.join(', ')} span ${c.end - c.start + 1} ${fn <= 2 ? 'bits' : 'registers'} at ${c.start}, more than the device's largest read (${max})`,
        { context: { ...context, max } },
      );
    }
    if (intersectsUnreadable(forbidden, c.start, c.end)) {
      throw new LantianError(
        'ACQ_PLAN',
        `points ${c.keys.join(', ')} (function ${fn}, ${c.start}-${c.end}) lie in a range the profile marks unreadable`,
        { context },
      );
    }
  }

  // best[j + 1]: cheapest plan for clusters 0..j; the last request reads clusters from..j.
  const best: (Best | undefined)[] = [{ cost: 0, requests: 0, from: -1 }];
  for (let j = 0; j < clusters.length; j++) {
    const end = clusters[j]!.end;
    for (let i = j; i >= 0; i--) {
      const start = clusters[i]!.start;
      if (end - start + 1 > max) break;
      if (i < j && intersectsUnreadable(forbidden, start, clusters[i + 1]!.start - 1)) break;
      if (i < j && !fillGaps && clusters[i]!.end + 1 < clusters[i + 1]!.start) break;
      const prior = best[i]!;
      const c = prior.cost + requestCostMs(cost, fn, end - start + 1);
      if (better(c, prior.requests + 1, best[j + 1]))
        best[j + 1] = { cost: c, requests: prior.requests + 1, from: i };
    }
  }

  const reads: PlannedRead[] = [];
  for (let j = clusters.length - 1; j >= 0;) {
    const i = best[j + 1]!.from;
    const run = clusters.slice(i, j + 1);
    const address = run[0]!.start;
    const count = run[run.length - 1]!.end - address + 1;
    const used = run.reduce((n, c) => n + c.end - c.start + 1, 0);
    reads.push({ function: fn, address, count, keys: run.flatMap((c) => c.keys), gapFilled: used < count });
    j = i - 1;
  }
  return reads.reverse();
}

/**
 * Plans the reads for one device's points. Requests come out ordered by function code, then
 * address. Throws ACQ_PLAN when a point cannot be read at all (longer than the largest read, or
 * inside an unreadable range).
 */
export function planReads(
  points: readonly PlanPoint[],
  limits: PlanLimits,
  cost: RequestCost,
  options: PlanOptions = {},
): PlannedRead[] {
  const fillGaps = options.fillGaps ?? true;
  const out: PlannedRead[] = [];
  for (const fn of [1, 2, 3, 4] as const) {
    const ofFn = points.filter((p) => p.function === fn);
    if (ofFn.length > 0) out.push(...planFunction(fn, ofFn, limits, cost, fillGaps));
  }
  return out;
}
