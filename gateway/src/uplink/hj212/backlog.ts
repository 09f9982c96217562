/**
 * What a platform gets next from the log. Records are read from the platform's own cursor in
 * sequence order; records it does not receive are marked done at once, the ones it receives
 * are grouped into one upload (a real-time window or one period's aggregates) that the session
 * marks done only when the platform has answered it.
 */
import type { Clock } from '../../core/clock.js';
import type { AggregatePeriod, Cursor, Log, LogRecord } from '../../store/index.js';
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

export class Backlog {
  private readonly firstSeen = new Map<string, number>();

  constructor(
    private readonly log: Log,
    private readonly cursor: Cursor,
    private readonly o: BacklogOptions,
    private readonly clock: Clock,
  ) {}

  /** Records not yet done, in order (the cursor's done ranges skipped). */
  private pending(): LogRecord[] {
    const out: LogRecord[] = [];
    let after = this.cursor.prefix;
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
    if (r.type === 'aggregate') return this.o.send[r.period] && this.mine(r);
    return false;
  }

  private mine(r: { device: string; point: string }): boolean {
    return this.o.devices.has(r.device) && codeOf(this.o.codes, r) !== undefined;
  }

  /** The next complete upload, or how long to wait before one may be complete. */
  next(): { upload?: Upload; waitMs?: number } {
    const recs = this.pending();
    const skipped = recs.filter((r) => !this.relevant(r));
    for (const r of skipped) this.cursor.markDoneInMemory(r.seq, r.seq);
    if (skipped.length > 0) this.cursor.persist();
    const mine = recs.filter((r) => this.relevant(r));
    const first = mine[0];
    if (!first) return {};
    const lastSeq = recs.at(-1)!.seq;
    const now = this.clock.now();
    if (first.type === 'reading') {
      const rtd = this.o.rtdMs();
      const key = Math.floor(first.ts / rtd);
      const members = mine.filter(
        (r): r is Extract<LogRecord, { type: 'reading' }> =>
          r.type === 'reading' && Math.floor(r.ts / rtd) === key,
      );
      const later = mine.some((r) => r.type === 'reading' && Math.floor(r.ts / rtd) > key);
      const closesAt = (key + 1) * rtd + this.o.graceMs;
      if (!later && now < closesAt) return { waitMs: closesAt - now };
      return {
        upload: {
          cn: '2011',
          cp: realtimeCp(members, this.o.codes, this.o.timezone),
          seqs: members.map((r) => r.seq),
          ts: Math.max(...members.map((r) => r.ts)),
        },
      };
    }
    if (first.type !== 'aggregate') return {};
    const period: AggregatePeriod = first.period;
    const members = mine.filter(
      (r): r is Extract<LogRecord, { type: 'aggregate' }> =>
        r.type === 'aggregate' && r.period === period && r.start === first.start,
    );
    const key = `${period}/${first.start}`;
    const seen = this.firstSeen.get(key) ?? now;
    this.firstSeen.set(key, seen);
    if (members.at(-1)!.seq === lastSeq && now - seen < this.o.lingerMs)
      return { waitMs: seen + this.o.lingerMs - now };
    this.firstSeen.delete(key);
    return {
      upload: {
        cn: PERIOD_CN[period],
        cp: aggregateCp(members, this.o.codes, this.o.timezone),
        seqs: members.map((r) => r.seq),
        ts: first.start,
      },
    };
  }
}
