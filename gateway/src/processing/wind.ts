/**
 * High wind on a construction site (config `dust.highWind`): the plan asks for more frequent
 * checks in strong wind (如遇大风天气…加大检查频次). A state machine over the wind point's valid
 * readings, timed by the readings' own timestamps so the live path and offline reprocessing
 * agree:
 *
 *   calm  -- speed above `above` for `holdMs` -->  windy   (`high_wind` raised)
 *   windy -- speed below `below` for `clearMs` --> calm    (`high_wind` cleared)
 *
 * A reading that breaks the run (or is not valid: flagged, not a number) restarts the wait, so a
 * single gust or a lost reading never switches. The gateway acts on the state (faster polling of
 * the dust monitors); the events put it on the record.
 */
import type { ReadingDraft } from '../core/reading.js';
import type { WindPlan } from './plan.js';
import { counts } from './rules.js';
import { NO_EVENTS, type ProcessingEvent } from './types.js';

export class WindWatch {
  private windySince: number | undefined;
  /** Start of the current run above (while calm) or below (while windy) the threshold. */
  private runSince: number | undefined;
  private peak = 0;

  constructor(private readonly plan: WindPlan) {}

  get windy(): boolean {
    return this.windySince !== undefined;
  }

  /** Takes back the state the log's `high_wind` events left (the latest one wins). */
  restore(events: readonly { kind: string; payload: unknown }[]): void {
    for (const e of events) {
      if (e.kind !== 'high_wind') continue;
      const p = (e.payload ?? {}) as Record<string, unknown>;
      if (p.device !== this.plan.device || p.point !== this.plan.point || typeof p.start !== 'number')
        continue;
      this.windySince = p.state === 'raised' ? p.start : undefined;
      this.runSince = undefined;
    }
  }

  observe(r: ReadingDraft): readonly ProcessingEvent[] {
    const p = this.plan;
    if (r.device !== p.device || r.point !== p.point) return NO_EVENTS;
    if (typeof r.value !== 'number' || !Number.isFinite(r.value) || !counts(r.flag)) {
      this.runSince = undefined;
      return NO_EVENTS;
    }
    const v = r.value;
    const leaving = this.windy ? v < p.below : v > p.above;
    if (!leaving) {
      this.runSince = undefined;
      if (this.windy) this.peak = Math.max(this.peak, v);
      return NO_EVENTS;
    }
    this.runSince ??= r.ts;
    if (r.ts - this.runSince < (this.windy ? p.clearMs : p.holdMs)) return NO_EVENTS;
    this.runSince = undefined;
    const base = { device: p.device, point: p.point, value: v, unit: 'm/s' };
    if (!this.windy) {
      this.windySince = r.ts;
      this.peak = v;
      return [
        {
          ts: r.ts,
          kind: 'high_wind',
          payload: { state: 'raised', start: r.ts, threshold: p.above, ...base, pollPeriodMs: p.periodMs },
        },
      ];
    }
    const start = this.windySince!;
    this.windySince = undefined;
    return [
      {
        ts: r.ts,
        kind: 'high_wind',
        payload: { state: 'cleared', start, end: r.ts, threshold: p.below, peak: this.peak, ...base },
      },
    ];
  }
}
