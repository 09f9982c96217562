/**
 * Processing on a running gateway: the composition root hands it committed readings and the
 * time, and it appends the aggregates and events they close to the log it was given. At start it
 * rebuilds the open periods from the log itself (the readings since the start of the newest
 * local day, and the aggregates and events already written for them), so a restart in the
 * middle of an hour neither loses the minutes before it nor writes any of them twice.
 */
import type { Clock } from '../core/clock.js';
import type { ReadingDraft } from '../core/reading.js';
import type { Processor } from './engine.js';
import { GRACE_MS } from './engine.js';
import type { Aggregate, ProcessingEvent, ProcessingOutput } from './types.js';

/** A log record as processing needs to see it (the store's LogRecord fits). */
export type LoggedRecord =
  | ({ type: 'reading'; seq: number } & ReadingDraft)
  | ({ type: 'aggregate'; seq: number } & Aggregate)
  | { type: 'event'; seq: number; ts: number; kind: string; payload: unknown }
  | { type: 'blob'; seq: number; ts: number };

/** What processing needs of the log: read by seq, append what it produced. */
export interface ProcessingLog {
  readonly lastSeq: number;
  read(after: number, limit: number): LoggedRecord[];
  appendAggregates(rows: readonly Aggregate[]): unknown;
  appendEvent(event: ProcessingEvent): unknown;
}

export interface RebuildSummary {
  /** Start (UTC ms) of the local day the rebuild replayed from; null for an empty log. */
  from: number | null;
  readings: number;
  /** Aggregates and events found missing from the log and appended now. */
  appendedAggregates: number;
  appendedEvents: number;
}

const PAGE = 5000;
const DAY = 86_400_000;

export const aggregateKey = (a: Pick<Aggregate, 'device' | 'point' | 'period' | 'start'>): string =>
  `${a.device}\u0000${a.point}\u0000${a.period}\u0000${a.start}`;

export function eventKey(e: { kind: string; payload: unknown }): string {
  const p = (e.payload ?? {}) as Record<string, unknown>;
  const fields = ['state', 'level', 'outlet', 'device', 'point', 'period', 'start'].map((k) => String(p[k]));
  return [e.kind, ...fields].join('\u0000');
}

export class LiveProcessing {
  constructor(
    readonly processor: Processor,
    private readonly log: ProcessingLog,
  ) {}

  /** Committed readings in; what they close goes to the log. */
  accept(readings: readonly ReadingDraft[], now: number): ProcessingOutput {
    return this.append(this.processor.push(readings, now));
  }

  /** Closes what the clock has passed (called about once a second). */
  tick(now: number): ProcessingOutput {
    return this.append(this.processor.advance(now));
  }

  /** Replays the log's newest local day (or two, around midnight); call once before `accept`. */
  rebuild(now: number): RebuildSummary {
    const summary: RebuildSummary = { from: null, readings: 0, appendedAggregates: 0, appendedEvents: 0 };
    const lastTs = this.lastReadingTs();
    if (lastTs === undefined) return summary;
    // Just after midnight the previous day may still be open (its last minute waits GRACE_MS).
    const from = this.processor.calendar.start(lastTs - 2 * GRACE_MS - 60_000, 'day');
    summary.from = from;
    const written = new Set<string>();
    const produced: ProcessingOutput = { aggregates: [], events: [] };
    const collect = (o: ProcessingOutput) => {
      produced.aggregates.push(...o.aggregates);
      produced.events.push(...o.events);
    };
    let after = this.firstSeqAtOrAfter(from - 2 * 3_600_000) - 1;
    for (;;) {
      const page = this.log.read(after, PAGE);
      if (page.length === 0) break;
      for (const r of page) {
        if (r.type === 'reading' && r.ts >= from) {
          summary.readings++;
          collect(this.processor.push([r], r.ts));
        } else if (r.type === 'aggregate' && r.start >= from) written.add(aggregateKey(r));
        else if (r.type === 'event') written.add(eventKey(r));
      }
      after = page.at(-1)!.seq;
    }
    collect(this.processor.advance(now));
    const missing = {
      aggregates: produced.aggregates.filter((a) => !written.has(aggregateKey(a))),
      events: produced.events.filter((e) => !written.has(eventKey(e))),
    };
    this.append(missing);
    summary.appendedAggregates = missing.aggregates.length;
    summary.appendedEvents = missing.events.length;
    return summary;
  }

  private append(out: ProcessingOutput): ProcessingOutput {
    if (out.aggregates.length > 0) this.log.appendAggregates(out.aggregates);
    for (const e of out.events) this.log.appendEvent(e);
    return out;
  }

  private lastReadingTs(): number | undefined {
    for (let end = this.log.lastSeq; end > 0; end -= PAGE) {
      const page = this.log.read(Math.max(0, end - PAGE), PAGE);
      const last = page.findLast((r) => r.type === 'reading');
      if (last) return last.ts;
    }
    return undefined;
  }

  /** Smallest seq whose record was appended at or after `ts` (by binary search over seq). */
  private firstSeqAtOrAfter(ts: number): number {
    let lo = 1;
    let hi = this.log.lastSeq + 1;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const t = this.appendTime(mid);
      if (t === undefined || t >= ts) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** When the first record at or after `seq` was appended, as near as its fields tell. */
  private appendTime(seq: number): number | undefined {
    const page = this.log.read(seq - 1, 16);
    const timed = page.find((r) => r.type !== 'aggregate');
    if (timed) return timed.ts;
    const a = page[0];
    return a?.type === 'aggregate' ? a.start + DAY : undefined;
  }
}

/**
 * Calls `tick` about once a second until `signal` aborts: periods close on the clock even when
 * no reading arrives. A failed append (disk full) is reported; the aggregates it could not
 * write are found missing and written by `rebuild` at the next start, from the readings.
 */
export async function runTicks(
  live: LiveProcessing,
  clock: Clock,
  signal: AbortSignal,
  onError: (e: unknown) => void,
): Promise<void> {
  while (!signal.aborted) {
    try {
      await clock.sleep(1000, signal);
    } catch {
      return;
    }
    try {
      live.tick(clock.now());
    } catch (e) {
      onError(e);
    }
  }
}
