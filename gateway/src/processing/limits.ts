/**
 * Emission limits per outlet and pollutant on the period the config names, with an early
 * warning. Each limit has two independent states, each raised and cleared once:
 *   - `alarm` (level warning): the period value reached warningPct % of the limit;
 *   - `exceedance`: the period value is above the limit.
 * Only valid periods (flag N or S) are judged: an invalid hour proves neither compliance nor an
 * exceedance, so it changes no state. HJ 76-2017 asks a CEMS to raise and record an alarm when
 * the converted hourly average exceeds the limit.
 */
import type { LimitPlan } from './plan.js';
import { counts } from './rules.js';
import type { Aggregate, ProcessingEvent } from './types.js';

/** What a limit is judged on: a closed aggregate, or one reading as a `realtime` sample. */
export type Judged = Pick<Aggregate, 'device' | 'point' | 'start' | 'avg' | 'flag' | 'hj212' | 'unit'> & {
  period: LimitPlan['averaging'];
  zsAvg?: number | null;
};

export interface LimitState {
  plan: LimitPlan;
  /** Undefined for a dust site's limits (config `dust.limits`). */
  outlet: string | undefined;
  warning: boolean;
  exceeded: boolean;
}

export class LimitWatch {
  private readonly states: LimitState[];

  constructor(outlets: readonly { id?: string; limits: readonly LimitPlan[] }[]) {
    this.states = outlets.flatMap((o) =>
      o.limits.map((plan) => ({ plan, outlet: o.id, warning: false, exceeded: false })),
    );
  }

  /**
   * Takes back the states the log's events left (the latest `raised` or `cleared` of each kind
   * per limit), so an exceedance raised before a restart is not raised a second time after it.
   */
  restore(events: readonly { kind: string; payload: unknown }[]): void {
    for (const e of events) {
      if (e.kind !== 'alarm' && e.kind !== 'exceedance') continue;
      const p = (e.payload ?? {}) as Record<string, unknown>;
      const s = this.states.find(
        (x) =>
          x.outlet === p.outlet &&
          x.plan.device === p.device &&
          x.plan.point === p.point &&
          x.plan.averaging === p.period,
      );
      if (!s || (p.state !== 'raised' && p.state !== 'cleared')) continue;
      if (e.kind === 'alarm') s.warning = p.state === 'raised';
      else s.exceeded = p.state === 'raised';
    }
  }

  /** Whether any limit judges single readings (`averaging: realtime`, dust sites only). */
  get realtime(): boolean {
    return this.states.some((s) => s.plan.averaging === 'realtime');
  }

  /** Judges closed aggregates, or readings as `realtime` samples; returns the events raised or cleared. */
  judge<A extends Judged>(aggregates: readonly A[], periodEnd: (a: A) => number): ProcessingEvent[] {
    const events: ProcessingEvent[] = [];
    for (const a of aggregates) {
      for (const s of this.states) {
        const p = s.plan;
        if (a.device !== p.device || a.point !== p.point || a.period !== p.averaging) continue;
        const measured = p.corrected ? a.zsAvg : a.avg;
        if (!counts(a.flag) || measured === null || measured === undefined) continue;
        // A limit on the excess over a district's reference judges the difference.
        const value = p.reference === undefined ? measured : measured - p.reference;
        const payload = (state: 'raised' | 'cleared', limit: number) => ({
          state,
          ...(s.outlet === undefined ? {} : { outlet: s.outlet }),
          device: p.device,
          point: p.point,
          ...(a.hj212 === undefined ? {} : { hj212: a.hj212 }),
          period: p.averaging,
          start: a.start,
          value,
          limit,
          max: p.max,
          corrected: p.corrected,
          ...(p.reference === undefined ? {} : { measured, reference: p.reference }),
          ...(a.unit === undefined ? {} : { unit: a.unit }),
        });
        const ts = periodEnd(a);
        const warn = value >= p.warning;
        if (warn !== s.warning) {
          s.warning = warn;
          events.push({
            ts,
            kind: 'alarm',
            payload: { level: 'warning', ...payload(warn ? 'raised' : 'cleared', p.warning) },
          });
        }
        const over = value > p.max;
        if (over !== s.exceeded) {
          s.exceeded = over;
          events.push({ ts, kind: 'exceedance', payload: payload(over ? 'raised' : 'cleared', p.max) });
        }
      }
    }
    return events;
  }
}
