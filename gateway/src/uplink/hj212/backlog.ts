/**
 * What a platform gets next from the log. Records are read from the platform's own cursor in
 * sequence order; records it does not receive are marked done at once, the ones it receives
 * are grouped into one upload (a real-time window or one period's aggregates) that the session
 * marks done only when the platform has answered it.
 */
import type { Clock } from '../../core/clock.js';
import type { Cursor, Log, LogRecord } from '../../store/index.js';
import { aggregateCp, codeOf, PERIOD_CN, realtimeCp, type FactorCodes } from './mapping.js';
import type { CpItem } from './packet.js';

export interface Upload {
  cn: string;
  cp: CpItem[];
  /** Log records this upload carries; done when it is answered. */
  seqs: number[];
  /** Sampling time (real-time) or period start (aggregates), UTC ms. */
  ts: number;
}

export interface BacklogOptions {
  devices: ReadonlySet<string>;
  /** The outlet whose aggregates (processing's outlet series included) this platform receives. */
  outlet?: string;
  codes: FactorCodes;
  timezone: string;
  send: { realtime: boolean; minute: boolean; hour: boolean; day: boolean };
  /** Real-time window (RtdInterval), ms. */
  rtdMs: () => number;
  realtimeOn: () => boolean;
  /** How long after a window's end late readings are still waited for, ms. */
  graceMs: number;
  /** How long a period's aggregates wait for more of the same period when nothing follows, ms. */
  lingerMs: number;
}

const BATCH = 2000;

type ReadingRecord = Extract<LogRecord, { type: 'reading' }>;
type AggregateRecord = Extract<LogRecord, { type: 'aggregate' }>;

export class Backlog {
  private readonly firstSeen = new Map<string, number>();

  constructor(
    private readonly log: Log,
    private readonly cursor: Cursor,
    private readonly o: BacklogOptions,
    private readonly clock: Clock,
  ) {}

  /** Records not yet done after `from`, in order (the cursor's done ranges skipped). */
  private pending(from = this.cursor.prefix): LogRecord[] {
    const out: LogRecord[] = [];
    let after = Math.max(from, this.cursor.prefix);
    while (out.length < BATCH) {
      const skip = this.cursor.doneRangeAtOrAfter(after + 1);
      if (skip && skip[0] <= after + 1) {
        after = skip[1];
        continue;
      }
      const recs = this.log.read(after, BATCH, skip ? skip[0] - 1 : undefined);
      if (recs.length === 0) {
        if (!skip) break;
        after = skip[1];
        continue;
      }
      out.push(...recs);
      after = recs.at(-1)!.seq;
    }
    return out;
  }

  private relevant(r: LogRecord): boolean {
    if (r.type === 'reading')
      return this.o.send.realtime && this.o.realtimeOn() && this.mine(r) && typeof r.value !== 'string';
    if (r.type === 'aggregate')
      return (
        r.period !== 'quarter_hour' &&
        this.o.send[r.period] &&
        (this.o.devices.has(r.device) || (this.o.outlet !== undefined && r.outlet === this.o.outlet)) &&
        codeOf(this.o.codes, r) !== undefined
      );
    return false;
  }

  private mine(r: { device: string; point: string }): boolean {
    return this.o.devices.has(r.device) && codeOf(this.o.codes, r) !== undefined;
  }

  /**
   * The next complete upload, or how long to wait before one may be complete. Records after
   * `liveAfter` (appended since the link came up) go first, the back-fill after them (HJ 212-2025
   * §8.1.2: "优先保障新采集的数据上传"); within each, the oldest first. An open real-time window
   * does not hold back aggregates logged after it (nor the reverse).
   */
  next(liveAfter?: number): { upload?: Upload; waitMs?: number } {
    if (liveAfter === undefined || liveAfter <= this.cursor.prefix) return this.oldest(this.pending());
    const live = this.oldest(this.pending(liveAfter));
    if (live.upload) return live;
    const backfill = this.oldest(this.pending().filter((r) => r.seq <= liveAfter));
    if (backfill.upload) return backfill;
    const waits = [live.waitMs, backfill.waitMs].filter((w) => w !== undefined);
    return waits.length === 0 ? {} : { waitMs: Math.min(...waits) };
  }

  private oldest(recs: LogRecord[]): { upload?: Upload; waitMs?: number } {
    const skipped = recs.filter((r) => !this.relevant(r));
    for (const r of skipped) this.cursor.markDoneInMemory(r.seq, r.seq);
    if (skipped.length > 0) this.cursor.persist();
    const lastSeq = recs.at(-1)?.seq ?? 0;
    const now = this.clock.now();
    const rtd = this.o.rtdMs();
    const readings = new Map<number, ReadingRecord[]>();
    const aggregates = new Map<string, AggregateRecord[]>();
    const order: (() => Upload | number)[] = [];
    let newestWindow = -Infinity;
    for (const r of recs) {
      if (!this.relevant(r)) continue;
      if (r.type === 'reading') {
        const key = Math.floor(r.ts / rtd);
        newestWindow = Math.max(newestWindow, key);
        const g = readings.get(key);
        if (g) g.push(r);
        else {
          const members = [r];
          readings.set(key, members);
          order.push(() => this.window(key, members, newestWindow, now));
        }
      } else if (r.type === 'aggregate') {
        const key = `${r.period}/${r.start}`;
        const g = aggregates.get(key);
        if (g) g.push(r);
        else {
          const members = [r];
          aggregates.set(key, members);
          order.push(() => this.period(key, members, lastSeq, now));
        }
      }
    }
    let waitMs: number | undefined;
    for (const candidate of order) {
      const u = candidate();
      if (typeof u !== 'number') return { upload: u };
      waitMs = Math.min(waitMs ?? u, u);
    }
    return waitMs === undefined ? {} : { waitMs };
  }

  private window(key: number, members: ReadingRecord[], newest: number, now: number): Upload | number {
    const closesAt = (key + 1) * this.o.rtdMs() + this.o.graceMs;
    if (newest <= key && now < closesAt) return closesAt - now;
    return {
      cn: '2011',
      cp: realtimeCp(members, this.o.codes, this.o.timezone),
      seqs: members.map((r) => r.seq),
      ts: Math.max(...members.map((r) => r.ts)),
    };
  }

  private period(key: string, members: AggregateRecord[], lastSeq: number, now: number): Upload | number {
    const seen = this.firstSeen.get(key) ?? now;
    this.firstSeen.set(key, seen);
    // Aggregates of one period are appended together; wait briefly only if nothing follows them.
    if (members.at(-1)!.seq === lastSeq && now - seen < this.o.lingerMs) return seen + this.o.lingerMs - now;
    this.firstSeen.delete(key);
    const first = members[0]!;
    return {
      cn: PERIOD_CN[first.period as keyof typeof PERIOD_CN],
      cp: aggregateCp(members, this.o.codes, this.o.timezone),
      seqs: members.map((r) => r.seq),
      ts: first.start,
    };
  }
}
