/**
 * The processing engine: committed readings in, closed minute / hour / day aggregates and
 * limit events out. Pure apart from its own state: no clock, no I/O. Time enters as the `now`
 * argument (the live path passes the injected clock, offline reprocessing the readings' own
 * timestamps), so the same input gives the same output.
 *
 * A series' minute closes when a reading of a later minute arrives or when `now` passes the
 * minute's end; the minute is finalised (outlet conversions, then hour and day) once `now` is
 * GRACE_MS past its end, so readings of a slow poll still count. A reading of a finalised minute
 * is late: counted, never aggregated (the aggregate is already on the record).
 */
import type { Flag } from '../core/flags.js';
import type { MissedSlots, ReadingDraft } from '../core/reading.js';
import { CalibrationWatch } from './calibration.js';
import { SiteCalendar } from './calendar.js';
import { ppmToMgM3 } from './conversions.js';
import { LimitWatch } from './limits.js';
import { convertOutletMinute } from './outlet.js';
import { PointMap } from '../core/point-map.js';
import { FLOW_POINT, NOX_POINT, seriesKey, type ProcessingPlan, type SeriesPlan } from './plan.js';
import { counts, FlagTally, required, Stats } from './rules.js';
import { WindWatch } from './wind.js';
import {
  NO_EVENTS,
  type Aggregate,
  type AggregatePeriodKind,
  type ProcessingEvent,
  type ProcessingOutput,
} from './types.js';

/** How long after its end a minute waits for slow polls before it is finalised. */
export const GRACE_MS = 10_000;

/**
 * One open period of one series. Every series keeps up to four open at once, so what only some
 * need is made on first use: the zs statistics (pollutants of an outlet with a reference O2).
 */
class Period {
  readonly tally = new FlagTally();
  readonly stats = new Stats();
  zs: Stats | undefined;
  cou = 0;
  couCount = 0;

  constructor(
    readonly start: number,
    readonly end: number,
  ) {}
}

interface Series {
  plan: Pick<SeriesPlan, 'device' | 'point' | 'unit' | 'minSamples'> & Partial<SeriesPlan>;
  minute?: Period;
  /** Dust points only: their 15-minute period. */
  quarter_hour?: Period;
  hour?: Period;
  day?: Period;
  /** Whether this series carries zs / Cou fields (a pollutant or flow of a converting outlet). */
  zs: boolean;
  cou: boolean;
}

export interface ProcessingHealth {
  samples: number;
  /** Readings of a minute already finalised. */
  late: number;
  /** Readings of points processing does not aggregate (status, strings, unknown). */
  ignored: number;
  aggregates: Record<AggregatePeriodKind, number>;
  events: number;
}

export class Processor {
  readonly calendar: SiteCalendar;
  /** Series fed by readings, by `device/point`. */
  private readonly series = new Map<string, Series>();
  /** The same series by device and point, for each reading. */
  private readonly seriesAt = new PointMap<Series>();
  /** Series an outlet computes, by `outlet/point`; kept apart so no reading can feed them. */
  private readonly derived = new Map<string, Series>();
  /** Closed, not yet finalised minutes by start. */
  private readonly pending = new Map<number, Map<string, Aggregate>>();
  private finalisedUntil = -Infinity;
  /** The earliest time an open period's grace ends: before it, `advance` has nothing to do. */
  private nextDue = Infinity;
  private readonly limits: LimitWatch;
  private readonly calibration: CalibrationWatch;
  private readonly health: ProcessingHealth = {
    samples: 0,
    late: 0,
    ignored: 0,
    aggregates: { minute: 0, quarter_hour: 0, hour: 0, day: 0 },
    events: 0,
  };
  /** The high-wind rule of a dust site (config `dust.highWind`). */
  private readonly wind: WindWatch | undefined;

  constructor(readonly plan: ProcessingPlan) {
    this.calendar = new SiteCalendar(plan.timeZone);
    for (const s of plan.series) {
      const series: Series = { plan: s, zs: false, cou: false };
      this.series.set(seriesKey(s.device, s.point), series);
      this.seriesAt.set(s.device, s.point, series);
    }
    for (const o of plan.outlets) {
      const zs = o.referenceO2Pct !== undefined && o.o2 !== undefined;
      const cou = o.flue.flow !== undefined || (o.flue.velocity !== undefined && o.ductAreaM2 !== undefined);
      for (const k of o.pollutants) Object.assign(this.series.get(k)!, { zs, cou });
      const derived = (point: string, unit: string, hj212: string, z: boolean) =>
        this.derived.set(seriesKey(o.id, point), {
          plan: { device: o.id, point, unit, hj212, outlet: o.id, minSamples: 1 },
          zs: z,
          cou,
        });
      if (cou) derived(FLOW_POINT, 'm3/s', 'a00000', false);
      if (o.noxFrom) derived(NOX_POINT, 'mg/m3', 'a21002', zs);
    }
    // A dust site's limits belong to no outlet.
    this.limits = new LimitWatch([...plan.outlets, ...(plan.dust ? [{ limits: plan.dust.limits }] : [])]);
    this.wind = plan.dust?.highWind ? new WindWatch(plan.dust.highWind) : undefined;
    this.calibration = new CalibrationWatch(
      plan.outlets.flatMap((o) => o.drifts ?? []),
      new Map(plan.series.map((s) => [s.device, s.outlet])),
    );
  }

  /** Takes committed readings, then closes what `now` (UTC ms) has passed. */
  push(readings: readonly ReadingDraft[], now: number): ProcessingOutput {
    const calibration: ProcessingEvent[] = [];
    for (const r of readings) {
      // One look-up of the reading's series serves every step below.
      const s = this.seriesAt.get(r.device, r.point);
      // Events are rare: most readings give none, and nothing is spread or copied for them.
      const c = this.calibration.observe(r, s !== undefined);
      if (c.length > 0) calibration.push(...c);
      const w = this.wind?.observe(r);
      if (w && w.length > 0) calibration.push(...w);
      const j = this.limits.realtime ? this.judgeReading(r, s) : NO_EVENTS;
      if (j.length > 0) calibration.push(...j);
      this.ingest(r, s);
    }
    const out = this.advance(now);
    this.health.events += calibration.length;
    out.events.unshift(...calibration);
    return out;
  }

  /**
   * Closes and finalises every period `now` has passed by the grace time. Until the earliest such
   * time (`nextDue`) nothing can close, and the call costs nothing: it runs after every commit, and
   * a scan of every series each time would cost more the more points the gateway polls.
   */
  advance(now: number): ProcessingOutput {
    const out: ProcessingOutput = { aggregates: [], events: [] };
    if (now < this.nextDue) return out;
    for (const s of this.series.values()) {
      if (s.minute && s.minute.end + GRACE_MS <= now) this.closeMinute(s);
    }
    const due = [...this.pending.keys()]
      .filter((start) => start + 60_000 + GRACE_MS <= now)
      .sort((a, b) => a - b);
    for (const start of due) this.finaliseMinute(start, out);
    for (const kind of ['quarter_hour', 'hour', 'day'] as const) {
      const closed: Aggregate[] = [];
      for (const s of [...this.series.values(), ...this.derived.values()]) {
        const p = s[kind];
        if (p && p.end + GRACE_MS <= now) closed.push(...this.closeUpper(s, kind, out));
      }
      this.emit(closed, out);
    }
    this.nextDue = Infinity;
    for (const start of this.pending.keys()) this.dueAt(start + 60_000);
    for (const s of [...this.series.values(), ...this.derived.values()])
      for (const p of [s.minute, s.quarter_hour, s.hour, s.day]) if (p) this.dueAt(p.end);
    return out;
  }

  /** A period ending at `end` is open: `advance` must look again by its grace time. */
  private dueAt(end: number): void {
    if (end + GRACE_MS < this.nextDue) this.nextDue = end + GRACE_MS;
  }

  /** Closes every open period, whatever the time: the end of an offline input. */
  flush(): ProcessingOutput {
    return this.advance(Number.MAX_SAFE_INTEGER);
  }

  /** Limit states from earlier events in the log, in log order (see LimitWatch.restore). */
  restoreLimits(events: readonly { kind: string; payload: unknown }[]): void {
    this.limits.restore(events);
    this.wind?.restore(events);
  }

  /** Whether the site is in high wind (config `dust.highWind`); false without the rule. */
  get highWind(): boolean {
    return this.wind?.windy ?? false;
  }

  stats(): ProcessingHealth {
    return { ...this.health, aggregates: { ...this.health.aggregates } };
  }

  /** A reading judged by the `realtime` limits of its point; the event time is the reading's. */
  private judgeReading(r: ReadingDraft, s: Series | undefined): readonly ProcessingEvent[] {
    if (typeof r.value === 'string') return NO_EVENTS;
    const plan = s?.plan;
    const value = Number.isFinite(r.value) ? r.value : null;
    return this.limits.judge(
      [
        {
          device: r.device,
          point: r.point,
          period: 'realtime',
          start: r.ts,
          avg: value,
          flag: r.flag,
          ...(plan?.hj212 === undefined ? {} : { hj212: plan.hj212 }),
          ...(plan ? { unit: plan.unit } : {}),
        },
      ],
      () => r.ts,
    );
  }

  private ingest(r: ReadingDraft, s: Series | undefined): void {
    if (!s || typeof r.value === 'string') {
      this.health.ignored++;
      return;
    }
    // The slots that overran before this reading's poll come first: a B sample each, at its due time.
    if (r.missed) this.sampleMissed(s, r.missed);
    this.sample(s, r.ts, r.value, r.flag);
  }

  /**
   * The missed slots as B samples, oldest first: those of one minute in one step (past its
   * capacity every reading of a gateway carries a few), exactly as one sample each would count.
   */
  private sampleMissed(s: Series, m: MissedSlots): void {
    for (let i = 0; i < m.slots;) {
      const ts = m.from + i * m.periodMs;
      const minuteEnd = this.calendar.start(ts, 'minute') + 60_000;
      const inMinute = Math.min(m.slots - i, Math.ceil((minuteEnd - ts) / m.periodMs));
      this.sample(s, ts, null, 'B', inMinute);
      i += inMinute;
    }
  }

  /**
   * One sample into its series' open minute (`times` equal samples of that minute at once); a
   * sample of a minute already closed is late.
   */
  private sample(s: Series, ts: number, value: number | null, given: Flag, times = 1): void {
    const start = this.calendar.start(ts, 'minute');
    if (start < this.finalisedUntil || (s.minute && start < s.minute.start)) {
      this.health.late += times;
      return;
    }
    if (s.minute && start >= s.minute.end) this.closeMinute(s);
    if (!s.minute) {
      s.minute = new Period(start, start + 60_000);
      this.dueAt(s.minute.end);
    }
    this.health.samples += times;
    const ok = typeof value === 'number' && Number.isFinite(value);
    const flag: Flag = ok || !counts(given) ? given : 'D';
    s.minute.tally.add(flag, times);
    if (ok && counts(flag)) for (let k = 0; k < times; k++) s.minute.stats.add(value);
  }

  /** Moves a series' open minute to the pending minutes, as an aggregate without outlet values. */
  private closeMinute(s: Series): void {
    const m = s.minute!;
    s.minute = undefined;
    const need = required('minute', s.plan.minSamples);
    const a = this.aggregate(s, 'minute', m, need);
    const molar = s.plan.ppmMolarMass;
    if (molar !== undefined) {
      const conv = (v: number | null) => (v === null ? null : ppmToMgM3(v, molar).value);
      a.min = conv(a.min);
      a.max = conv(a.max);
      if (a.avg !== null)
        a.derivation = { conversions: ['ppm_to_mg_m3'], inputs: { ppm: a.avg, molarMassGPerMol: molar } };
      a.avg = conv(a.avg);
    }
    let bucket = this.pending.get(m.start);
    if (!bucket) {
      this.pending.set(m.start, (bucket = new Map<string, Aggregate>()));
      this.dueAt(m.start + 60_000);
    }
    bucket.set(seriesKey(s.plan.device, s.plan.point), a);
  }

  private finaliseMinute(start: number, out: ProcessingOutput): void {
    const bucket = this.pending.get(start)!;
    this.pending.delete(start);
    this.finalisedUntil = Math.max(this.finalisedUntil, start + 60_000);
    const minutes: [Series, Aggregate][] = [...bucket].map(([k, a]) => [this.series.get(k)!, a]);
    for (const o of this.plan.outlets) {
      for (const a of convertOutletMinute(o, bucket, start, 60)) {
        minutes.push([this.derived.get(seriesKey(a.device, a.point))!, a]);
      }
    }
    this.emit(
      minutes.map(([, a]) => a),
      out,
    );
    const closed: Aggregate[] = [];
    for (const [s, a] of minutes) {
      if (s.plan.dust) {
        if (s.quarter_hour && start >= s.quarter_hour.end)
          closed.push(...this.closeUpper(s, 'quarter_hour', out));
        s.quarter_hour ??= this.open(start, 'quarter_hour');
        this.feed(s.quarter_hour, a);
      }
      if (s.hour && start >= s.hour.end) closed.push(...this.closeUpper(s, 'hour', out));
      s.hour ??= this.open(start, 'hour');
      this.feed(s.hour, a);
    }
    this.emit(closed, out);
  }

  private open(ts: number, kind: 'quarter_hour' | 'hour' | 'day'): Period {
    const start = this.calendar.start(ts, kind);
    const p = new Period(start, this.calendar.end(start, kind));
    this.dueAt(p.end);
    return p;
  }

  /**
   * Closes a series' quarter-hour, hour or day; an hour goes on into its day (a quarter-hour is
   * an average of its own: the hour is averaged from the minutes). Returns the closed aggregate.
   */
  private closeUpper(s: Series, kind: 'quarter_hour' | 'hour' | 'day', out: ProcessingOutput): Aggregate[] {
    const p = s[kind]!;
    s[kind] = undefined;
    const a = this.aggregate(s, kind, p, required(kind, 0));
    if (kind === 'hour') {
      if (s.day && a.start >= s.day.end) this.emit(this.closeUpper(s, 'day', out), out);
      s.day ??= this.open(a.start, 'day');
      this.feed(s.day, a);
    }
    return [a];
  }

  private feed(p: Period, a: Aggregate): void {
    p.tally.add(a.flag);
    if (!counts(a.flag) || a.avg === null) return;
    p.stats.add(a.avg, a.min ?? a.avg, a.max ?? a.avg);
    if (a.zsAvg !== undefined && a.zsAvg !== null)
      (p.zs ??= new Stats()).add(a.zsAvg, a.zsMin ?? a.zsAvg, a.zsMax ?? a.zsAvg);
    if (a.cou !== undefined && a.cou !== null) {
      p.cou += a.cou;
      p.couCount++;
    }
  }

  private aggregate(s: Series, kind: AggregatePeriodKind, p: Period, need: number): Aggregate {
    const plan = s.plan;
    const a: Aggregate = {
      device: plan.device,
      point: plan.point,
      period: kind,
      start: p.start,
      min: p.stats.low,
      avg: p.stats.avg,
      max: p.stats.high,
      count: p.stats.count,
      flag: p.tally.periodFlag(p.stats.count, need),
      inputs: p.tally.total,
      required: need,
      ...(plan.outlet === undefined ? {} : { outlet: plan.outlet }),
      ...(plan.hj212 === undefined ? {} : { hj212: plan.hj212 }),
      unit: plan.unit,
    };
    if (kind !== 'minute') {
      if (s.zs)
        Object.assign(a, { zsMin: p.zs?.low ?? null, zsAvg: p.zs?.avg ?? null, zsMax: p.zs?.high ?? null });
      if (s.cou) a.cou = p.couCount > 0 ? p.cou : null;
    }
    return a;
  }

  private emit(aggregates: Aggregate[], out: ProcessingOutput): void {
    if (aggregates.length === 0) return;
    out.aggregates.push(...aggregates);
    for (const a of aggregates) this.health.aggregates[a.period]++;
    const events = this.limits.judge(aggregates, (a) =>
      a.period === 'minute' ? a.start + 60_000 : this.calendar.end(a.start, a.period),
    );
    this.health.events += events.length;
    out.events.push(...events);
  }
}
