/**
 * Period boundaries on the wall clock of the site's time zone (site.timezone). HJ 212 and HJ 75
 * periods are local: a Chinese day runs from 00:00 to 24:00 Beijing time (UTC+8), and an hour
 * in a zone with a half-hour offset starts at hh:00 local, not at a UTC hour.
 */
import { zoneOf, type Zone } from '../core/zone.js';
import type { AggregatePeriodKind } from './types.js';

const HOUR = 3_600_000;
/** Nominal length of each period; a local day or hour may differ across a daylight-saving change. */
const SIZE = { minute: 60_000, quarter_hour: HOUR / 4, hour: HOUR, day: 24 * HOUR } as const;

interface Span {
  start: number;
  end: number;
}
/** Holds no instant: every look-up misses it. */
const EMPTY: Span = { start: 0, end: 0 };

export class SiteCalendar {
  private readonly zone: Zone;
  /**
   * The last two periods computed of each kind: readings of one period share them without an
   * offset look-up, also when a late poll's readings and its missed slots straddle a period's end.
   */
  private readonly held = new Map<AggregatePeriodKind, { last: Span; before: Span }>();

  constructor(readonly timeZone: string) {
    this.zone = zoneOf(timeZone);
  }

  /** Local time minus UTC at `ts`, in milliseconds (+8 h for Asia/Shanghai). */
  offsetMs(ts: number): number {
    return this.zone.offsetMs(ts);
  }

  /** Start (UTC ms) of the period of kind `kind` that contains `ts`. */
  start(ts: number, kind: AggregatePeriodKind): number {
    let h = this.held.get(kind);
    if (h) {
      if (ts >= h.last.start && ts < h.last.end) return h.last.start;
      if (ts >= h.before.start && ts < h.before.end) return h.before.start;
    } else {
      h = { last: EMPTY, before: EMPTY };
      this.held.set(kind, h);
    }
    const start = this.periodStart(ts, kind);
    h.before = h.last;
    h.last = { start, end: this.nextStart(start, kind) };
    return start;
  }

  /** Start of the period after the one starting at `start`. */
  end(start: number, kind: AggregatePeriodKind): number {
    const h = this.held.get(kind);
    if (h?.last.start === start) return h.last.end;
    if (h?.before.start === start) return h.before.end;
    return this.nextStart(start, kind);
  }

  private nextStart(start: number, kind: AggregatePeriodKind): number {
    if (kind === 'minute') return start + 60_000;
    // Half-way into the next period lands inside it even on 23- and 25-hour days.
    return this.periodStart(start + 1.5 * SIZE[kind], kind);
  }

  /** `start` without the periods held: two offset look-ups. */
  private periodStart(ts: number, kind: AggregatePeriodKind): number {
    const size = SIZE[kind];
    const off = this.offsetMs(ts);
    const localStart = Math.floor((ts + off) / size) * size;
    // Across a daylight-saving change the offset at the start can differ from the one at ts.
    const start = localStart - this.offsetMs(localStart - off);
    return start <= ts ? start : localStart - off;
  }

  /** Length of the period starting at `start`, in seconds. */
  seconds(start: number, kind: AggregatePeriodKind): number {
    return (this.end(start, kind) - start) / 1000;
  }
}
