/**
 * Processing on a running gateway. It follows the log: it sees a reading only once the log has
 * committed it, and appends the aggregates and events they close to the same log. So the
 * aggregates are always a function of what is on the record, and `lantian aggregate` over the
 * log's readings gives the same values. While the log holds readings in its in-memory queue (a
 * full disk), processing's time stands still: no minute is finalised without readings that may
 * still be committed, and readings that overflow the queue (recorded as an `unlogged` event)
 * never reach an aggregate. The data-quality checks run before the commit (`annotate`), so
 * their reasons are on the record with each reading.
 *
 * At start it rebuilds the open periods from the log itself (the readings since the start of the
 * newest local day, and the aggregates and events already written for them), so a restart in the
 * middle of an hour neither loses the minutes before it nor writes any of them twice.
 */
import type { Clock } from '../core/clock.js';
import type { ReadingDraft } from '../core/reading.js';
import type { Processor, ProcessingHealth } from './engine.js';
import { GRACE_MS } from './engine.js';
import { QualityChecks, type QualityCounts } from './quality.js';
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
  /** `read` without what processing does not use: the readings' raw words and quality reasons. */
  readValues(after: number, limit: number): LoggedRecord[];
  /** The events alone, by seq. */
  readEvents(after: number, limit: number): LoggedRecord[];
  /** Readings waiting in memory because the log cannot write (the store's LogStats fits). */
  stats(): { pendingReadings: number };
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
  /** Seq of the last log record processing has read. */
  private seen = 0;
  /** True while the log has readings queued in memory: processing's time stands still. */
  private held = false;

  constructor(
    readonly processor: Processor,
    private readonly log: ProcessingLog,
    readonly quality: QualityChecks = new QualityChecks(processor.plan),
  ) {}

  /** Adds the data-quality reasons to a batch about to be committed (value and flag unchanged). */
  annotate(drafts: readonly ReadingDraft[]): ReadingDraft[] {
    return this.quality.check(drafts);
  }

  /**
   * Feeds the readings the log committed since the last call, then closes what `now` has passed,
   * unless the log still holds queued readings. `queued` says the caller's last batch was queued.
   * Call after every commit and about once a second.
   */
  follow(now: number, queued = false): ProcessingOutput {
    if (queued) this.held = true;
    if (this.held && this.log.stats().pendingReadings === 0) this.held = false;
    const readings: ReadingDraft[] = [];
    for (
      let page = this.log.readValues(this.seen, PAGE);
      page.length > 0;
      page = this.log.readValues(this.seen, PAGE)
    ) {
      for (const r of page) if (r.type === 'reading') readings.push(r);
      this.seen = page.at(-1)!.seq;
    }
    const out = this.held ? this.processor.push(readings, -Infinity) : this.processor.push(readings, now);
    return this.append(out);
  }

  /** Counters for the health message: processing since start and the data-quality marks. */
  health(): ProcessingHealth & { quality: QualityCounts; waitingForLog: boolean } {
    return { ...this.processor.stats(), quality: this.quality.counts(), waitingForLog: this.held };
  }

  /** Closes what the clock has passed (called about once a second). */
  tick(now: number): ProcessingOutput {
    return this.follow(now);
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
    this.processor.restoreLimits(this.eventsBefore(from));
    let after = this.firstSeqAtOrAfter(from - 2 * 3_600_000) - 1;
    for (;;) {
      const page = this.log.read(after, PAGE);
      if (page.length === 0) break;
      for (const r of page) {
        if (r.type === 'reading' && r.ts >= from) {
          summary.readings++;
          this.quality.check([r], false);
          collect(this.processor.push([r], r.ts));
        } else if (r.type === 'aggregate' && r.start >= from) written.add(aggregateKey(r));
        else if (r.type === 'event') written.add(eventKey(r));
      }
      after = page.at(-1)!.seq;
    }
    this.seen = after;
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

  /** The log's events about periods that began before `from`, in log order. */
  private eventsBefore(from: number): { kind: string; payload: unknown }[] {
    const out: { kind: string; payload: unknown }[] = [];
    for (let after = 0; ;) {
      const page = this.log.readEvents(after, PAGE);
      if (page.length === 0) return out;
      for (const e of page) {
        if (e.type !== 'event') continue;
        const start = (e.payload as { start?: unknown } | null)?.start;
        if (typeof start === 'number' && start < from) out.push(e);
      }
      after = page.at(-1)!.seq;
    }
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
